/*
 * test_seccomp_filter.c - verdictd's system call allow-list
 * (engine/daemon/seccomp_filter.c), installed in a forked child each time:
 * what the daemon does still works (unix and netlink sockets, a thread, a
 * spawned program); a network socket and a call off the list kill the child
 * by SIGSYS, after one line on stderr that names the call's number. With
 * --realtime's filter a SCHED_FIFO thread starts, and only that policy.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <sched.h>
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

/* Runs fn in a filtered child (realtime: --realtime's filter): its wait
 * status, its stderr in err. */
static int run_filtered_as(bool realtime, child_fn fn, char *err, size_t errlen)
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
		if (vd_seccomp_filter_install(realtime, why, sizeof(why)) < 0) {
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

static int run_filtered(child_fn fn, char *err, size_t errlen)
{
	return run_filtered_as(false, fn, err, errlen);
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

/* A SCHED_FIFO thread, as the engine starts a queue worker with
 * realtime_priority: 0 when it ran (or the scheduler refused: EPERM is not
 * the filter's). */
static int fifo_thread(void)
{
	struct sched_param param = { .sched_priority = 1 };
	pthread_attr_t attr;
	pthread_t t;
	int err;

	pthread_attr_init(&attr);
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
	pthread_attr_setschedparam(&attr, &param);
	err = pthread_create(&t, &attr, thread_main, NULL);
	pthread_attr_destroy(&attr);
	if (err == 0)
		pthread_join(t, NULL);
	return err == 0 || err == EPERM ? 0 : 7;
}

/* Another policy stays refused with --realtime. */
static int round_robin(void)
{
	struct sched_param param = { .sched_priority = 1 };

	(void)sched_setscheduler(0, SCHED_RR, &param);
	return 0; /* not reached */
}

static void test_realtime_allows_fifo_threads_only(void **state)
{
	char err[512], want[64];
	int status;

	(void)state;
	status = run_filtered_as(true, fifo_thread, err, sizeof(err));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("--realtime filter, SCHED_FIFO thread: status %#x, stderr: %s", status, err);
	status = run_filtered_as(false, fifo_thread, err, sizeof(err));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		fail_msg("default filter, SCHED_FIFO thread: status %#x, not killed by SIGSYS",
			 status);
	status = run_filtered_as(true, round_robin, err, sizeof(err));
	snprintf(want, sizeof(want), "seccomp: system call %ld is not on", (long)SYS_sched_setscheduler);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS || !strstr(err, want))
		fail_msg("--realtime filter, SCHED_RR: status %#x, stderr: %s", status, err);
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
		cmocka_unit_test(test_realtime_allows_fifo_threads_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
