/*
 * test_engine.c - vd_engine_start's realtime_priority
 * (engine/lib/engine/engine.c), on real queues bound in a network namespace
 * of a forked child's own (root only; skipped otherwise): queue workers
 * start SCHED_FIFO at the priority, log group workers keep SCHED_OTHER;
 * without CAP_SYS_NICE and with RLIMIT_RTPRIO 0 the start fails with one
 * line naming the queue, the priority and the cause, and leaves no thread.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <verdict/libverdict.h>

/* The child's result: 0 passed, 77 no namespace here, else a failed check
 * (its line on stderr). */
#define SKIPPED 77

static struct vd_verdict accept_cb(const struct vd_packet *pkt, void *user)
{
	(void)pkt;
	(void)user;
	return vd_verdict_accept();
}

static void drop_packet(const struct vd_packet *pkt, void *user)
{
	(void)pkt;
	(void)user;
}

/* Threads of this process at SCHED_FIFO prio, and at SCHED_OTHER 0. */
static void count_policies(int prio, int *fifo, int *other)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;

	*fifo = *other = 0;
	while (d && (de = readdir(d))) {
		char path[300], buf[1024], *p;
		unsigned long policy, rt;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", de->d_name);
		if (!(f = fopen(path, "re")))
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		/* After ") ": state is field 3; rt_priority 40, policy 41. */
		if (p && sscanf(p + 2, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s"
				"%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s"
				"%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s"
				"%*s %*s %*s %*s %*s %*s %*s %lu %lu", &rt, &policy) == 2) {
			if (policy == SCHED_FIFO && rt == (unsigned long)prio)
				(*fifo)++;
			else if (policy == SCHED_OTHER && rt == 0)
				(*other)++;
		}
	}
	if (d)
		closedir(d);
}

static struct vd_engine *engine_new(int prio, char *err)
{
	static const uint16_t queues[] = { 0, 1 }, groups[] = { 5 };
	struct vd_queue_config q = { .callback = accept_cb };
	struct vd_nflog_config g = { .callback = drop_packet };
	struct vd_engine_config cfg = { .queues = queues, .nqueues = 2, .queue = &q,
					.groups = groups, .ngroups = 1, .group = &g,
					.realtime_priority = prio };

	return vd_engine_create(&cfg, err);
}

/* Clears CAP_SYS_NICE from the effective set and RLIMIT_RTPRIO to 0: what
 * an unprivileged process without the limit has. */
static int lose_realtime(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct caps[2];
	struct rlimit none = { 0, 0 };

	if (syscall(SYS_capget, &h, caps) < 0)
		return -1;
	caps[CAP_SYS_NICE / 32].effective &= ~(1u << (CAP_SYS_NICE % 32));
	if (syscall(SYS_capset, &h, caps) < 0)
		return -1;
	return setrlimit(RLIMIT_RTPRIO, &none);
}

static int threads_now(void)
{
	char line[128];
	FILE *f = fopen("/proc/self/status", "re");
	int n = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

#define CHECK(cond, ...)                                                                   \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, __VA_ARGS__);                                      \
			fputc('\n', stderr);                                               \
			return __LINE__ % 70 + 1;                                          \
		}                                                                          \
	} while (0)

static int child(void)
{
	char err[VD_ERRBUF_SIZE] = "";
	struct vd_engine *e;
	int fifo, other, threads = threads_now();

	if (unshare(CLONE_NEWNET) < 0)
		return SKIPPED;
	e = engine_new(7, err);
	CHECK(e, "create: %s", err);
	CHECK(vd_engine_start(e, err) == 0, "start at priority 7: %s", err);
	count_policies(7, &fifo, &other);
	CHECK(fifo == 2 && other == threads + 1,
	      "after start: %d threads SCHED_FIFO 7 (want the 2 queue workers), %d SCHED_OTHER "
	      "(want %d: the caller's and the group worker)", fifo, other, threads + 1);
	vd_engine_destroy(e);
	CHECK(threads_now() == threads, "%d threads after destroy", threads_now());

	CHECK(lose_realtime() == 0, "dropping CAP_SYS_NICE: %s", strerror(errno));
	e = engine_new(7, err);
	CHECK(e, "create without CAP_SYS_NICE: %s", err);
	errno = 0;
	CHECK(vd_engine_start(e, err) == -1 && errno == EPERM, "start refused: errno %d", errno);
	CHECK(strcmp(err, "queue 0: SCHED_FIFO priority 7 refused: Operation not permitted "
		     "(needs CAP_SYS_NICE or RLIMIT_RTPRIO >= 7)") == 0, "refusal line: %s", err);
	CHECK(threads_now() == threads, "%d threads after the refusal", threads_now());
	vd_engine_destroy(e);
	/* 0 keeps the caller's policy: nothing to refuse. */
	e = engine_new(0, err);
	CHECK(e && vd_engine_start(e, err) == 0, "start at priority 0: %s", err);
	count_policies(7, &fifo, &other);
	CHECK(fifo == 0 && other == threads + 3, "priority 0: %d SCHED_FIFO, %d SCHED_OTHER", fifo,
	      other);
	vd_engine_destroy(e);
	return 0;
}

static void test_realtime_priority(void **state)
{
	int status = 0;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == SKIPPED)
		skip();
	if (WEXITSTATUS(status) != 0)
		fail_msg("child failed a check (status %d): see its line above", WEXITSTATUS(status));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_realtime_priority),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
