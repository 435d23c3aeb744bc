/* spawn.c - a helper tool run with text on stdin, stderr (and, for
 * vd_spawn_read, stdout) captured (spawn.h). */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"

/* Between fork and exec: async-signal-safe calls only (the daemon's
 * workers may hold locks the child would inherit taken). */
static void child(char *const argv[], int in, int outfd, int errfd)
{
	static const char msg[] = "cannot run ";
	sigset_t none;
	int null = outfd >= 0 ? outfd : open("/dev/null", O_WRONLY);

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* the daemon blocks its signals */
	signal(SIGPIPE, SIG_DFL);              /* and ignores this one */
	if (dup2(in, 0) < 0 || dup2(errfd, 2) < 0 || null < 0 || dup2(null, 1) < 0)
		_exit(127);
	/* Failure is fine: root has the capability anyway; a process without
	 * it in its permitted and inheritable sets cannot pass it on. */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0);
	execvp(argv[0], argv);
	if (write(2, msg, sizeof(msg) - 1) > 0 && write(2, argv[0], strlen(argv[0])) > 0)
		(void)!write(2, ": not found or not executable\n", 30);
	_exit(127);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What the child's stdout said, for vd_spawn_read: grown as it comes. */
struct output {
	int fd;                 /* -1: not captured, or closed */
	char *buf;
	size_t len, cap;
	bool full;              /* past VD_SPAWN_OUTPUT_MAX, or no memory */
};

/* Reads what is there on o->fd; closes it at its end. */
static void output_read(struct output *o)
{
	char tmp[4096];
	ssize_t n = read(o->fd, tmp, sizeof(tmp));

	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		close(o->fd);
		o->fd = -1;
		return;
	}
	if (o->len + (size_t)n + 1 > o->cap && !o->full) {
		size_t cap = o->cap ? o->cap * 2 : 65536;
		char *more;

		while (cap < o->len + (size_t)n + 1)
			cap *= 2;
		more = cap <= VD_SPAWN_OUTPUT_MAX ? realloc(o->buf, cap) : NULL;
		if (more)
			o->buf = more, o->cap = cap;
		else
			o->full = true;
	}
	if (!o->full) {
		memcpy(o->buf + o->len, tmp, (size_t)n);
		o->len += (size_t)n;
		o->buf[o->len] = '\0';
	}
}

/* Feeds input to in and collects errfd into err (and out->fd into out)
 * until the child closes them (it ended) or the deadline passes. 0, or -1
 * on the timeout. */
static int exchange(int in, int errfd, struct output *out, const char *input, size_t len,
		    char *err, size_t errlen)
{
	long deadline = now_ms() + VD_SPAWN_TIMEOUT_MS;
	size_t sent = 0, got = 0;

	if (len == 0)
		shutdown(in, SHUT_WR);
	while (errfd >= 0 || out->fd >= 0) {
		struct pollfd p[3] = { { .fd = errfd, .events = POLLIN },
				       { .fd = sent < len ? in : -1, .events = POLLOUT },
				       { .fd = out->fd, .events = POLLIN } };
		long left = deadline - now_ms();
		char buf[512];
		ssize_t n;

		if (left <= 0)
			return -1;
		if (poll(p, 3, (int)left) < 0 && errno != EINTR)
			return -1;
		if (p[1].revents & (POLLOUT | POLLERR | POLLHUP)) {
			/* MSG_NOSIGNAL: a tool that exits early must not kill us. */
			n = send(in, input + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				sent = len; /* it stopped reading: its stderr says why */
			else if (n > 0)
				sent += (size_t)n;
			if (sent == len)
				shutdown(in, SHUT_WR);
		}
		if (out->fd >= 0 && (p[2].revents & (POLLIN | POLLHUP | POLLERR)))
			output_read(out);
		if (errfd < 0 || !(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(errfd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			errfd = -1; /* the caller closes it */
			continue;
		}
		for (ssize_t i = 0; i < n && got + 3 < errlen; i++) {
			if (buf[i] != '\n') {
				err[got++] = buf[i];
			} else {
				err[got++] = ';';
				err[got++] = ' ';
			}
		}
	}
	while (got >= 2 && strncmp(err + got - 2, "; ", 2) == 0)
		got -= 2;
	err[got] = '\0';
	return 0;
}

static int spawn(char *const argv[], const char *input, size_t len, struct output *out,
		 char *err, size_t errlen)
{
	int sv[2], ep[2], op[2] = { -1, -1 }, status, rc = 0;
	pid_t pid;

	err[0] = '\0';
	if (out && pipe2(op, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "%s: cannot make its stdout: %s", argv[0], strerror(errno));
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "%s: cannot make its stdin: %s", argv[0], strerror(errno));
		close(op[0]);
		close(op[1]);
		return -1;
	}
	if (pipe2(ep, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "%s: cannot make its stderr: %s", argv[0], strerror(errno));
		close(sv[0]);
		close(sv[1]);
		close(op[0]);
		close(op[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0)
		child(argv, sv[1], op[1], ep[1]);
	close(sv[1]);
	close(ep[1]);
	if (op[1] >= 0)
		close(op[1]);
	if (out)
		out->fd = op[0];
	if (pid < 0) {
		snprintf(err, errlen, "%s: cannot fork: %s", argv[0], strerror(errno));
		close(sv[0]);
		close(ep[0]);
		if (out && out->fd >= 0)
			close(out->fd);
		return -1;
	}
	if (exchange(sv[0], ep[0], out ? out : &(struct output){ .fd = -1 }, input, len, err,
		     errlen) < 0) {
		kill(pid, SIGKILL);
		snprintf(err, errlen, "%s: no answer after %d ms: killed", argv[0],
			 VD_SPAWN_TIMEOUT_MS);
		rc = -1;
	}
	close(sv[0]);
	close(ep[0]);
	if (out && out->fd >= 0) {
		close(out->fd);
		out->fd = -1;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errlen, "%s: cannot wait for it: %s", argv[0], strerror(errno));
			return -1;
		}
	if (rc < 0)
		return -1;
	if (WIFSIGNALED(status)) {
		snprintf(err, errlen, "%s: killed by signal %d", argv[0], WTERMSIG(status));
		return -1;
	}
	return WEXITSTATUS(status);
}

int vd_spawn_run(char *const argv[], const char *input, size_t len, char *err, size_t errlen)
{
	return spawn(argv, input, len, NULL, err, errlen);
}

int vd_spawn_read(char *const argv[], char **out, char *err, size_t errlen)
{
	struct output o = { .fd = -1 };
	int rc = spawn(argv, NULL, 0, &o, err, errlen);

	if (rc == 0 && o.full) {
		snprintf(err, errlen, "%s: its output passed %u bytes (or memory ran out)", argv[0],
			 VD_SPAWN_OUTPUT_MAX);
		rc = -1;
	}
	if (rc == 0 && !o.buf && !(o.buf = calloc(1, 1))) {
		snprintf(err, errlen, "%s: out of memory", argv[0]);
		rc = -1;
	}
	if (rc != 0) {
		free(o.buf);
		o.buf = NULL;
	}
	*out = o.buf;
	return rc;
}
