/*
 * test_control_command.c - the control protocol's command parser
 * (engine/daemon/control_command.c): the three commands exactly, a final
 * carriage return, and one error line for everything else, above all bytes
 * that are not printable text (a NUL must not cut "reload\0junk" to
 * "reload").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "control_command.h"

/* Parses len bytes of s; on failure leaves the message in err. */
static int parse(const char *s, size_t len, enum vd_control_command *cmd, char *err, size_t errlen)
{
	*cmd = (enum vd_control_command)-1;
	err[0] = '\0';
	return vd_control_command_parse(s, len, cmd, err, errlen);
}

#define PARSE_OK(lit, want)                                                            \
	do {                                                                            \
		enum vd_control_command c;                                              \
		char e[200];                                                            \
		assert_int_equal(parse(lit, sizeof(lit) - 1, &c, e, sizeof(e)), 0);    \
		assert_int_equal(c, want);                                              \
	} while (0)

/* Refused, with a message containing part. */
#define PARSE_ERR(lit, part)                                                           \
	do {                                                                            \
		enum vd_control_command c;                                              \
		char e[200];                                                            \
		assert_int_equal(parse(lit, sizeof(lit) - 1, &c, e, sizeof(e)), -1);   \
		if (!strstr(e, part))                                                   \
			fail_msg("message \"%s\" lacks \"%s\"", e, part);               \
		assert_null(strchr(e, '\n'));                                           \
	} while (0)

static void test_the_commands(void **unused)
{
	(void)unused;
	PARSE_OK("reload", VD_CONTROL_RELOAD);
	PARSE_OK("stats", VD_CONTROL_STATS);
	PARSE_OK("ping", VD_CONTROL_PING);
	PARSE_OK("stats-json", VD_CONTROL_STATS_JSON);
	PARSE_OK("metrics", VD_CONTROL_METRICS);
	PARSE_ERR("stats-jso", "unknown command");
	PARSE_ERR("metrics\0", "0x00 (NUL)");
	/* Line-oriented tools send "\r\n". */
	PARSE_OK("ping\r", VD_CONTROL_PING);
	assert_string_equal(vd_control_command_name(VD_CONTROL_RELOAD), "reload");
	assert_string_equal(vd_control_command_name(VD_CONTROL_STATS), "stats");
	assert_string_equal(vd_control_command_name(VD_CONTROL_PING), "ping");
	assert_string_equal(vd_control_command_name(VD_CONTROL_STATS_JSON), "stats-json");
	assert_string_equal(vd_control_command_name(VD_CONTROL_METRICS), "metrics");
}

static void test_nul_and_control_bytes_refused(void **unused)
{
	(void)unused;
	PARSE_ERR("reload\0junk", "byte 7 of the command is 0x00 (NUL)");
	PARSE_ERR("reload\0", "byte 7 of the command is 0x00 (NUL)");
	PARSE_ERR("\0reload", "byte 1 ");
	PARSE_ERR("re\nload", "0x0a (newline)");
	PARSE_ERR("ping\tx", "0x09 (tab)");
	PARSE_ERR("ping\r\r", "0x0d (carriage return)");
	PARSE_ERR("stats\x1b[2J", "0x1b: commands are printable ASCII text");
	PARSE_ERR("st\x7f" "ats", "0x7f");
	PARSE_ERR("p\xc3\xafng", "byte 2 of the command is 0xc3");
	PARSE_ERR("ping\xff", "0xff");
}

static void test_unknown_and_near_misses(void **unused)
{
	(void)unused;
	PARSE_ERR("", "empty command");
	PARSE_ERR("\r", "empty command");
	PARSE_ERR("RELOAD", "unknown command \"RELOAD\" (reload, stats, stats-json, metrics or ping)");
	PARSE_ERR("reload ", "unknown command \"reload \"");
	PARSE_ERR(" ping", "unknown command");
	PARSE_ERR("pin", "unknown command \"pin\"");
	PARSE_ERR("pingg", "unknown command");
	PARSE_ERR("stats now", "unknown command");
	PARSE_ERR("reloadreload", "unknown command");
}

static void test_long_input_quoted_short(void **unused)
{
	char buf[300], err[200];
	enum vd_control_command c;

	(void)unused;
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(parse(buf, sizeof(buf), &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "...\" (reload, stats, stats-json, metrics or ping)"));
	assert_true(strlen(err) < 120); /* 40 bytes quoted, then the command list */
	/* A short error buffer is cut, never overrun. */
	assert_int_equal(parse("reload\0junk", 11, &c, err, 8), -1);
	assert_int_equal(strlen(err), 7);
}

static void test_length_is_the_caller_s(void **unused)
{
	enum vd_control_command c;
	char err[200];

	(void)unused;
	/* Bytes past len are not looked at; no NUL terminator needed. */
	assert_int_equal(parse("pingpong", 4, &c, err, sizeof(err)), 0);
	assert_int_equal(c, VD_CONTROL_PING);
	assert_int_equal(parse(NULL, 0, &c, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_commands),
		cmocka_unit_test(test_nul_and_control_bytes_refused),
		cmocka_unit_test(test_unknown_and_near_misses),
		cmocka_unit_test(test_long_input_quoted_short),
		cmocka_unit_test(test_length_is_the_caller_s),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
