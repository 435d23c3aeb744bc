/*
 * test_abi.c - the promises of verdict/abi.h and verdict/log.h: structs a
 * program passes are read only as far as the program's version of them
 * goes, a newer program's unknown fields are refused unless zero, output
 * structs are filled only up to the caller's size, and the library's lines
 * go to the program's log handler.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <verdict/libverdict.h>

#include "export.h"
#include "log.h"

struct v1 {
	uint32_t a, b;
};

struct v2 {
	uint32_t a, b;
	uint32_t added; /* a field a later version appended */
};

static void test_older_caller_reads_added_fields_as_zero(void **state)
{
	struct v1 old = { 1, 2 };
	struct v2 lib;

	(void)state;
	memset(&lib, 0xff, sizeof(lib));
	assert_int_equal(vd_abi_copy_in(&lib, sizeof(lib), &old, sizeof(old)), 0);
	assert_int_equal(lib.a, 1);
	assert_int_equal(lib.b, 2);
	assert_int_equal(lib.added, 0);
}

static void test_newer_caller_is_refused_only_for_set_unknown_fields(void **state)
{
	struct v2 newer = { 1, 2, 0 };
	struct v1 lib;

	(void)state;
	assert_int_equal(vd_abi_copy_in(&lib, sizeof(lib), &newer, sizeof(newer)), 0);
	assert_int_equal(lib.b, 2);
	newer.added = 7;
	errno = 0;
	assert_int_equal(vd_abi_copy_in(&lib, sizeof(lib), &newer, sizeof(newer)), -1);
	assert_int_equal(errno, EINVAL);
}

static void test_output_stops_at_the_callers_size(void **state)
{
	struct v2 lib = { 1, 2, 3 };
	struct {
		struct v1 old;
		uint32_t canary;
	} out = { { 0, 0 }, 0xdeadbeef };
	struct v2 bigger;

	(void)state;
	vd_abi_copy_out(&out.old, sizeof(out.old), &lib, sizeof(lib));
	assert_int_equal(out.old.b, 2);
	assert_int_equal(out.canary, 0xdeadbeef);
	memset(&bigger, 0xff, sizeof(bigger));
	vd_abi_copy_out(&bigger, sizeof(bigger), &out.old, sizeof(out.old));
	assert_int_equal(bigger.added, 0);
}

/* A program built before vd_queue_config grew its fallback field passes
 * the shorter size: open must not read the field (ASan would catch a read
 * past a struct allocated at exactly that size) and must not refuse. */
static struct vd_verdict accept_cb(const struct vd_packet *pkt, void *user)
{
	(void)pkt;
	(void)user;
	return vd_verdict_accept();
}

static void test_queue_config_of_a_newer_program_is_refused(void **state)
{
	struct {
		struct vd_queue_config cfg;
		uint64_t unknown;
	} newer = { .cfg = { .queue_num = 1, .callback = accept_cb }, .unknown = 1 };
	char err[VD_ERRBUF_SIZE] = "";

	(void)state;
	assert_null(vd_queue_open_sized(&newer.cfg, sizeof(newer), err));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "newer libverdict"));
}

/* 0.4's struct vd_engine_config: up to kernel_mark_mask and its tail
 * padding. A program built against it passes that size, with whatever its
 * padding holds: realtime_priority (0.5) must lie past it and read as 0.
 * Checked through the refusal of an out-of-range priority, which
 * vd_engine_create makes before anything else it checks. */
static void test_engine_config_of_0_4_has_no_realtime_priority(void **state)
{
	size_t align = _Alignof(struct vd_engine_config);
	size_t old_size = (offsetof(struct vd_engine_config, kernel_mark_mask) + sizeof(uint32_t) +
			   align - 1) / align * align;
	struct vd_engine_config *old = malloc(old_size); /* ASan: no read past it */
	struct vd_engine_config full = { .realtime_priority = 100 };
	char err[VD_ERRBUF_SIZE] = "";

	(void)state;
	assert_true(offsetof(struct vd_engine_config, realtime_priority) >= old_size);
	assert_non_null(old);
	memset(old, 0, old_size);
	memset((char *)old + offsetof(struct vd_engine_config, kernel_mark_mask) + sizeof(uint32_t),
	       0xff, old_size - offsetof(struct vd_engine_config, kernel_mark_mask) -
	       sizeof(uint32_t)); /* the padding: uninitialised in the program */
	assert_null(vd_engine_create_sized(old, old_size, 0, 0, err));
	assert_non_null(strstr(err, "no queue and no log group given"));
	free(old);
	assert_null(vd_engine_create(&full, err));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "engine: realtime_priority 100 is not 0 (off) or a SCHED_FIFO "
			    "priority from 1 to 99");
	full.realtime_priority = -1;
	assert_null(vd_engine_create(&full, err));
	assert_non_null(strstr(err, "realtime_priority -1 is not"));
}

struct seen {
	int calls;
	enum vd_log_level level;
	char message[128];
};

static void capture(enum vd_log_level level, const char *message, void *user)
{
	struct seen *s = user;

	s->calls++;
	s->level = level;
	snprintf(s->message, sizeof(s->message), "%s", message);
}

static void test_log_lines_go_to_the_handler(void **state)
{
	struct seen s = { 0 };

	(void)state;
	vd_log_set_handler(capture, &s);
	vd_log(VD_LOG_WARN, "queue %u: something", 3u);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.level, VD_LOG_WARN);
	assert_string_equal(s.message, "queue 3: something");
	vd_log(VD_LOG_DEBUG, "not shown at the default level");
	assert_int_equal(s.calls, 1);
	vd_log_set_level(VD_LOG_DEBUG);
	vd_log(VD_LOG_DEBUG, "shown now");
	assert_int_equal(s.calls, 2);
	vd_log_set_level(VD_LOG_INFO);
	vd_log_set_handler(NULL, NULL);
	vd_log(VD_LOG_INFO, "to stderr again");
	assert_int_equal(s.calls, 2);
	assert_string_equal(vd_log_level_name(VD_LOG_ERROR), "error");
	assert_string_equal(vd_log_level_name(VD_LOG_WARN), "warning");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_older_caller_reads_added_fields_as_zero),
		cmocka_unit_test(test_newer_caller_is_refused_only_for_set_unknown_fields),
		cmocka_unit_test(test_output_stops_at_the_callers_size),
		cmocka_unit_test(test_queue_config_of_a_newer_program_is_refused),
		cmocka_unit_test(test_engine_config_of_0_4_has_no_realtime_priority),
		cmocka_unit_test(test_log_lines_go_to_the_handler),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
