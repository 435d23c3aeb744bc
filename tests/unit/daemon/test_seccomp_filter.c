/*
 * test_seccomp_filter.c - verdictd's system call allow-list
 * (engine/daemon/seccomp_filter.c), installed in a forked child each time:
 * what the daemon does still works (unix and netlink sockets, a thread, a
 * spawned program); a network socket and a call off the list kill the child
 * by SIGSYS, after one line on stderr that names the call's number.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seccomp_filter.h"

/* What the child does once filtered; its exit status says how far it got. */
typedef int (*child_fn)(void);

/* Runs fn in a filtered child: its wait status, its stderr in err. */
static int run_filtered(child_fn fn, char *err, size_t errlen)
{
	int fds[2], status = 0;
	ssize_t n, got = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char why[256];

		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		if (vd_seccomp_filter_install(why, sizeof(why)) < 0) {
			fprintf(stderr, "install: %s\n", why);
			_exit(100);
		}
		_exit(fn());
	}
	close(fds[1]);
	while (got < (ssize_t)errlen - 1 && (n = read(fds[0], err + got, errlen - 1 - got)) > 0)
		got += n;
	err[got] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void *thread_main(void *arg)
{
	return arg;
}

/* The daemon's own calls: 0 when each worked, else which one failed. */
static int daemon_calls(void)
{
	struct timespec ts;
	pthread_t t;
	void *back = NULL;
	int fd, status;
	pid_t pid;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	close(fd);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return 2;
	close(fd);
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 3;
	if (pthread_create(&t, NULL, thread_main, &ts) != 0 || pthread_join(t, &back) != 0 ||
	    back != &ts)
		return 4;
	/* As the firewall spawns iptables-restore: the program runs filtered. */
	pid = fork();
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return 5;
	return 0;
}

/* An IPv4 or IPv6 socket is refused with EACCES (iptables-restore, which
 * inherits the filter, copes with that), not killed. */
static int inet_socket(void)
{
	int fd4 = socket(AF_INET, SOCK_DGRAM, 0), e4 = errno;
	int fd6 = socket(AF_INET6, SOCK_STREAM, 0), e6 = errno;

	return fd4 < 0 && e4 == EACCES && fd6 < 0 && e6 == EACCES ? 0 : 6;
}

/* Any other network family kills. */
static int network_socket(void)
{
	(void)socket(AF_PACKET, SOCK_RAW, 0);
	return 0; /* not reached */
}

static int mount_call(void)
{
	(void)syscall(SYS_mount, "none", "/", "tmpfs", 0UL, NULL);
	return 0; /* not reached */
}

static void test_daemon_calls_pass(void **state)
{
	char err[512];
	int status;

	(void)state;
	status = run_filtered(daemon_calls, err, sizeof(err));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("child: status %#x, stderr: %s", status, err);
	status = run_filtered(inet_socket, err, sizeof(err));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("inet sockets: status %#x (6: not refused with EACCES), stderr: %s", status,
			 err);
}

/* Killed by SIGSYS after a line naming number. */
static void expect_refused(child_fn fn, long number)
{
	char err[512], want[64];
	int status = run_filtered(fn, err, sizeof(err));

	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		fail_msg("child: status %#x, not killed by SIGSYS; stderr: %s", status, err);
	snprintf(want, sizeof(want), "seccomp: system call %ld is not on", number);
	if (!strstr(err, want))
		fail_msg("stderr \"%s\" lacks \"%s\"", err, want);
}

static void test_network_socket_kills(void **state)
{
	(void)state;
	expect_refused(network_socket, SYS_socket);
}

static void test_unlisted_call_kills(void **state)
{
	(void)state;
	expect_refused(mount_call, SYS_mount);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_daemon_calls_pass),
		cmocka_unit_test(test_network_socket_kills),
		cmocka_unit_test(test_unlisted_call_kills),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
