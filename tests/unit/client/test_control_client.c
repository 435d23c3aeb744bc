/*
 * test_control_client.c - verdictctl's end of the control socket
 * (engine/client/control_client.c) against a scripted daemon: success is an
 * answer that does not start with "error:", however the answer is split over
 * reads; an empty answer and a missing daemon are failures of their own.
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
	status = vd_control_request(sock_path, cmd, out);
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
	assert_int_equal(vd_control_request(sock_path, "stats", stdout), -1);
	assert_int_equal(errno, ENOENT);
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
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
