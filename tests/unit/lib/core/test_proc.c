/*
 * test_proc.c - proc.c's reading of /proc/net/netfilter/nfnetlink_queue:
 * the line of the asked queue among others, every field in place, large
 * drop counts, and ENOENT for a queue nobody has bound or a line that is
 * not the kernel's format.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "proc.h"

/* Writes text to a temporary file; returns its path (static buffer). */
static const char *proc_file(const char *text)
{
	static char path[] = "/tmp/vd_test_proc.XXXXXX";
	int fd;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/vd_test_proc.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* The kernel's format (nfqnl_seq_show): "%5u %6u %5u %1u %5u %5u %5u %8u %2d\n",
 * as this kernel prints it; the last field is always 1 (no fail-open count). */
static const char *const TABLE =
	"    0   7604     3 2 65531    17     5      120  1\n"
	"    7   7610     0 2   128 4294967295 4000000000 4294967290  1\n";

static void test_reads_the_asked_queue(void **state)
{
	const char *path = proc_file(TABLE);
	struct vd_kernel_queue_stats k;

	(void)state;
	assert_int_equal(vd_proc_queue_read(path, 0, &k), 0);
	assert_int_equal(k.portid, 7604);
	assert_int_equal(k.queue_total, 3);
	assert_int_equal(k.copy_mode, 2);
	assert_int_equal(k.copy_range, 65531);
	assert_int_equal(k.queue_dropped, 17);
	assert_int_equal(k.user_dropped, 5);
	assert_int_equal(k.id_sequence, 120);
	/* The second line, with counters near the kernel's 32-bit wrap. */
	assert_int_equal(vd_proc_queue_read(path, 7, &k), 0);
	assert_int_equal(k.portid, 7610);
	assert_int_equal(k.copy_range, 128);
	assert_int_equal(k.queue_dropped, 4294967295ul);
	assert_int_equal(k.user_dropped, 4000000000ul);
	assert_int_equal(k.id_sequence, 4294967290u);
	unlink(path);
}

static void test_absent_queue_is_enoent(void **state)
{
	const char *path = proc_file(TABLE);
	struct vd_kernel_queue_stats k;

	(void)state;
	errno = 0;
	assert_int_equal(vd_proc_queue_read(path, 1, &k), -1);
	assert_int_equal(errno, ENOENT);
	unlink(path);
	/* No queue bound at all: an empty file. */
	path = proc_file("");
	errno = 0;
	assert_int_equal(vd_proc_queue_read(path, 0, &k), -1);
	assert_int_equal(errno, ENOENT);
	unlink(path);
	/* A missing file: fopen's errno. */
	errno = 0;
	assert_int_equal(vd_proc_queue_read("/nonexistent/nfnetlink_queue", 0, &k), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_short_line_is_not_taken(void **state)
{
	/* Fewer fields than the kernel prints: not a queue line. */
	const char *path = proc_file("    0   7604     3 2 65531    17\n");
	struct vd_kernel_queue_stats k;

	(void)state;
	errno = 0;
	assert_int_equal(vd_proc_queue_read(path, 0, &k), -1);
	assert_int_equal(errno, ENOENT);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_the_asked_queue),
		cmocka_unit_test(test_absent_queue_is_enoent),
		cmocka_unit_test(test_short_line_is_not_taken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
