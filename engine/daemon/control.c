/* control.c - the daemon's end of the control socket (control.h). */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"

#define IO_TIMEOUT_MS 1000
#define MAX_COMMAND 128

struct vd_control {
	int fd;
	char *path;
};

static int make_address(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	if (make_address(path, &sa) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

struct vd_control *vd_control_open(const char *path, char *err, size_t errlen)
{
	struct vd_control *c = calloc(1, sizeof(*c));
	struct sockaddr_un sa;
	int live;

	if (!c || make_address(path, &sa) < 0) {
		snprintf(err, errlen, "control socket %s: %s", path, strerror(c ? errno : ENOMEM));
		free(c);
		return NULL;
	}
	/* Someone answering means another daemon owns the path: leave it be. */
	live = connect_to(path);
	if (live >= 0) {
		close(live);
		snprintf(err, errlen, "control socket %s is in use by another verdictd "
			 "(give this one --control PATH)", path);
		free(c);
		errno = EADDRINUSE;
		return NULL;
	}
	unlink(path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	c->path = strdup(path);
	if (c->fd < 0 || !c->path || fchmod(c->fd, 0600) < 0 ||
	    bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(c->fd, 8) < 0) {
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		if (c->fd >= 0)
			close(c->fd);
		free(c->path);
		free(c);
		return NULL;
	}
	return c;
}

int vd_control_fd(const struct vd_control *c)
{
	return c->fd;
}

/* Reads one line (without its newline) within the timeout. */
static int read_command(int fd, char *cmd, size_t size)
{
	size_t n = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (n + 1 < size && poll(&p, 1, IO_TIMEOUT_MS) == 1) {
		ssize_t got = read(fd, cmd + n, size - 1 - n);

		if (got <= 0)
			break;
		n += (size_t)got;
		if (memchr(cmd, '\n', n))
			break;
	}
	cmd[n] = '\0';
	cmd[strcspn(cmd, "\r\n")] = '\0';
	return n > 0 ? 0 : -1;
}

void vd_control_serve(struct vd_control *c, vd_control_handler handler, void *data)
{
	char cmd[MAX_COMMAND];
	char *answer = NULL;
	size_t len = 0;
	FILE *reply;
	int fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (read_command(fd, cmd, sizeof(cmd)) == 0 && (reply = open_memstream(&answer, &len))) {
		handler(cmd, reply, data);
		fclose(reply);
		for (size_t off = 0; off < len;) {
			ssize_t sent = send(fd, answer + off, len - off, MSG_NOSIGNAL);
			if (sent <= 0)
				break;
			off += (size_t)sent;
		}
		free(answer);
	}
	close(fd);
}

void vd_control_close(struct vd_control *c)
{
	if (!c)
		return;
	close(c->fd);
	unlink(c->path);
	free(c->path);
	free(c);
}
