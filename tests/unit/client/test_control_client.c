/*
 * test_control_client.c - verdictctl's end of the control socket
 * (engine/client/control_client.c) against a scripted daemon: success is an
 * answer that does not start with "error:", however the answer is split over
 * reads; an empty answer and a missing daemon are failures of their own; a
 * daemon that never answers, or never accepts, costs the timeout and no more.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "control_client.h"

/* A daemon that answers one connection with chunks, sent with a pause
 * between them so that the client reads them one at a time. */
struct fake_daemon {
	int listener;
	const char *const *chunks; /* NULL-terminated */
	char command[VD_CONTROL_MAX_COMMAND];
	pthread_t thread;
};

static char dir[] = "/tmp/vd-test-control-XXXXXX";
static char sock_path[sizeof(dir) + 16];

static void *fake_daemon_run(void *arg)
{
	struct fake_daemon *d = arg;
	struct timespec pause = { .tv_nsec = 30 * 1000 * 1000 };
	int fd = accept(d->listener, NULL, NULL);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, d->command, sizeof(d->command) - 1);
	d->command[n > 0 ? n : 0] = '\0';
	for (const char *const *c = d->chunks; *c; c++) {
		if (c != d->chunks)
			nanosleep(&pause, NULL);
		if (write(fd, *c, strlen(*c)) != (ssize_t)strlen(*c))
			break;
	}
	close(fd);
	return NULL;
}

static void fake_daemon_start(struct fake_daemon *d, const char *const *chunks)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(d, 0, sizeof(*d));
	d->chunks = chunks;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	unlink(sock_path);
	d->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(d->listener >= 0);
	assert_int_equal(bind(d->listener, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(d->listener, 1), 0);
	assert_int_equal(pthread_create(&d->thread, NULL, fake_daemon_run, d), 0);
}

static void fake_daemon_stop(struct fake_daemon *d)
{
	pthread_join(d->thread, NULL);
	close(d->listener);
	unlink(sock_path);
}

/* Sends cmd to a fake daemon answering chunks; returns the client's status
 * and checks that the answer was copied whole and the command sent. */
static int request(const char *cmd, const char *const *chunks)
{
	struct fake_daemon d;
	char *copied = NULL, want[4096] = "", sent[VD_CONTROL_MAX_COMMAND];
	size_t len = 0;
	FILE *out = open_memstream(&copied, &len);
	int status;

	assert_non_null(out);
	fake_daemon_start(&d, chunks);
	status = vd_control_request(sock_path, cmd, 5000, out);
	fake_daemon_stop(&d);
	fclose(out);
	for (const char *const *c = chunks; *c; c++)
		strcat(want, *c);
	assert_string_equal(copied, want);
	snprintf(sent, sizeof(sent), "%s\n", cmd);
	assert_string_equal(d.command, sent);
	free(copied);
	return status;
}

#define CHUNKS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_stats_lines_are_success(void **unused)
{
	(void)unused;
	/* The stats answer is the lines themselves, with no "ok" before them. */
	assert_int_equal(request("stats", CHUNKS("stats: q0 packets=1 errors=0\n",
						   "rules: generation=1 (default)=1\n")),
			 0);
	assert_int_equal(request("stats", CHUNKS("nflog: g5 packets=0\n")), 0);
	assert_int_equal(request("ping", CHUNKS("ok: verdictd 1.0\n")), 0);
	/* Starting like the word without its colon is not an error. */
	assert_int_equal(request("stats", CHUNKS("errors: 0\n")), 0);
	assert_int_equal(request("stats", CHUNKS("erro")), 0);
}

static void test_error_answer_is_failure(void **unused)
{
	(void)unused;
	assert_int_equal(request("reload", CHUNKS("error: rules.lua: bad (the old rules stay)\n")),
			 1);
	/* The prefix split over reads is still seen. */
	assert_int_equal(request("reload", CHUNKS("e", "rr", "or: x\n")), 1);
	assert_int_equal(request("reload", CHUNKS("error", ":", " x\n", "more\n")), 1);
	/* Only the first line's start counts. */
	assert_int_equal(request("stats", CHUNKS("stats: q0\n", "error: not first\n")), 0);
}

static void test_empty_answer_and_no_daemon(void **unused)
{
	(void)unused;
	errno = 0;
	assert_int_equal(request("stats", CHUNKS("")), -1);
	assert_int_equal(errno, ENODATA);
	errno = 0;
	unlink(sock_path);
	assert_int_equal(vd_control_request(sock_path, "stats", 5000, stdout), -1);
	assert_int_equal(errno, ENOENT);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int silent_listener(int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	unlink(sock_path);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	return fd;
}

/* The request gives up with ETIMEDOUT after timeout_ms, not much later. */
static void expect_timeout(int timeout_ms)
{
	int64_t start = now_ms();

	errno = 0;
	assert_int_equal(vd_control_request(sock_path, "ping", timeout_ms, stdout), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(now_ms() - start >= timeout_ms - 10);
	assert_true(now_ms() - start < timeout_ms + 500);
}

static void test_daemon_that_never_answers(void **unused)
{
	int listener = silent_listener(4);

	(void)unused;
	/* Connected (the backlog takes it) and sent; the answer never comes. */
	expect_timeout(300);
	close(listener);
	unlink(sock_path);
}

static void test_daemon_whose_backlog_is_full(void **unused)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int listener = silent_listener(0), held[4];

	(void)unused;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	/* Fill the backlog with connections nobody accepts: a blocking
	 * connect would wait for as long as the daemon does not accept. */
	for (size_t i = 0; i < 4; i++) {
		held[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		assert_true(held[i] >= 0);
		(void)connect(held[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	expect_timeout(300);
	for (size_t i = 0; i < 4; i++)
		close(held[i]);
	close(listener);
	unlink(sock_path);
}

static void test_command_longer_than_a_line(void **unused)
{
	char cmd[VD_CONTROL_MAX_COMMAND + 1];

	(void)unused;
	memset(cmd, 'a', sizeof(cmd) - 1);
	cmd[sizeof(cmd) - 1] = '\0';
	errno = 0;
	assert_int_equal(vd_control_request(sock_path, cmd, 1000, stdout), -1);
	assert_int_equal(errno, E2BIG);
}

static int setup(void **unused)
{
	(void)unused;
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/ctl.sock", dir);
	return 0;
}

static int teardown(void **unused)
{
	(void)unused;
	unlink(sock_path);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_lines_are_success),
		cmocka_unit_test(test_error_answer_is_failure),
		cmocka_unit_test(test_empty_answer_and_no_daemon),
		cmocka_unit_test(test_daemon_that_never_answers),
		cmocka_unit_test(test_daemon_whose_backlog_is_full),
		cmocka_unit_test(test_command_longer_than_a_line),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
