/* test_spawn.c - the helper-tool runner (spawn.c): stdin fed, exit status
 * and stderr returned, a missing tool, a tool that stops reading. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "spawn.h"

static void test_stdin_and_status(void **state)
{
	/* The tool's stderr comes back with newlines as "; ": what it read. */
	char *argv[] = { "sh", "-c", "cat >&2; exit 3", NULL };
	char err[256];

	(void)state;
	assert_int_equal(vd_spawn_run(argv, "line 1\nline 2\n", 14, err, sizeof(err)), 3);
	assert_string_equal(err, "line 1; line 2");
}

static void test_no_input_success(void **state)
{
	char *argv[] = { "true", NULL };
	char err[64] = "x";

	(void)state;
	assert_int_equal(vd_spawn_run(argv, NULL, 0, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

static void test_missing_tool(void **state)
{
	char *argv[] = { "verdictd-no-such-tool", NULL };
	char err[256];

	(void)state;
	assert_int_equal(vd_spawn_run(argv, "x", 1, err, sizeof(err)), 127);
	assert_non_null(strstr(err, "cannot run verdictd-no-such-tool"));
}

/* More than a pipe holds, to a tool that reads none of it: no hang, no
 * SIGPIPE, its status. */
static void test_tool_that_does_not_read(void **state)
{
	size_t len = 1 << 20;
	char *big = calloc(1, len);
	char *argv[] = { "sh", "-c", "echo refused >&2; exit 2", NULL };
	char err[64];

	(void)state;
	assert_non_null(big);
	assert_int_equal(vd_spawn_run(argv, big, len, err, sizeof(err)), 2);
	assert_string_equal(err, "refused");
	free(big);
}

/* The error buffer bounds what is kept of a long stderr. */
static void test_long_stderr_truncated(void **state)
{
	char *argv[] = { "sh", "-c", "i=0; while [ $i -lt 200 ]; do echo abcdefgh >&2; "
				     "i=$((i+1)); done; exit 1", NULL };
	char err[32];

	(void)state;
	assert_int_equal(vd_spawn_run(argv, NULL, 0, err, sizeof(err)), 1);
	assert_true(strlen(err) < sizeof(err));
	assert_int_equal(strncmp(err, "abcdefgh; abcdefgh", 18), 0);
}

/* vd_spawn_read keeps stdout whole, far past a pipe's buffer, with stderr
 * apart; a failing tool gives its status and no output. */
static void test_read_stdout(void **state)
{
	char *const seq[] = { "sh", "-c", "seq 1 100000; echo said >&2", NULL };
	char *const bad[] = { "sh", "-c", "echo partial; exit 4", NULL };
	char err[64], *out = NULL;
	const char *last;

	(void)state;
	assert_int_equal(vd_spawn_read(seq, &out, err, sizeof(err)), 0);
	assert_non_null(out);
	assert_int_equal(strlen(out), 588895); /* the digits of 1..100000 and newlines */
	assert_memory_equal(out, "1\n2\n3\n", 6);
	last = out + strlen(out) - 13;
	assert_string_equal(last, "99999\n100000\n");
	assert_string_equal(err, "said");
	free(out);
	assert_int_equal(vd_spawn_read(bad, &out, err, sizeof(err)), 4);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stdin_and_status),
		cmocka_unit_test(test_no_input_success),
		cmocka_unit_test(test_missing_tool),
		cmocka_unit_test(test_tool_that_does_not_read),
		cmocka_unit_test(test_long_stderr_truncated),
		cmocka_unit_test(test_read_stdout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
