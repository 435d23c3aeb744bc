/* test_units.c - tc's units from strings: good values, and one clear line
 * naming each bad one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "units.h"

static void test_time(void **state)
{
	static const struct { const char *s; uint64_t ns; } good[] = {
		{ "20ms", 20000000 }, { "1.5s", 1500000000 }, { "250us", 250000 },
		{ "100ns", 100 }, { "0ms", 0 }, { "5MS", 5000000 }, { "2sec", 2000000000 },
		{ "3msec", 3000000 }, { ".5ms", 500000 }, { "7usecs", 7000 },
	};
	char err[128];
	uint64_t ns;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ns = 1;
		assert_int_equal(vd_units_time(good[i].s, &ns, err, sizeof(err)), 0);
		assert_int_equal(ns, good[i].ns);
	}
}

static void test_time_errors(void **state)
{
	static const struct { const char *s; const char *says; } bad[] = {
		{ "20", "\"20\": a time needs a unit (ns, us, ms, s)" },
		{ "20 ms", "\"20 ms\": unknown time unit \" ms\"" },
		{ "-1ms", "\"-1ms\" is not a time" },
		{ "ms", "\"ms\" is not a time" },
		{ "", "\"\" is not a time" },
		{ "inf", "\"inf\" is not a time" },
		{ "0x10ms", "\"0x10ms\" is not a time" },
		{ "20min", "\"20min\": unknown time unit \"min\"" },
		{ "2h", "\"2h\": unknown time unit" },
		{ "4000s", "\"4000s\": time too large" },
		{ "1.2.3ms", "\"1.2.3ms\"" },
	};
	char err[128];
	uint64_t ns = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(vd_units_time(bad[i].s, &ns, err, sizeof(err)), -1);
		if (!strstr(err, bad[i].says))
			fail_msg("%s: got %s", bad[i].s, err);
		assert_null(strchr(err, '\n'));
	}
	assert_int_equal(ns, 7);
}

static void test_rate(void **state)
{
	static const struct { const char *s; uint64_t bps; } good[] = {
		{ "10mbit", 10000000 }, { "1.5gbit", 1500000000 }, { "800kbit", 800000 },
		{ "64bit", 64 }, { "1kibit", 1024 }, { "1mibit", 1048576 },
		{ "100bps", 800 }, { "1mbps", 8000000 }, { "2Mbit", 2000000 },
	};
	char err[128];
	uint64_t bps;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(vd_units_rate(good[i].s, &bps, err, sizeof(err)), 0);
		assert_int_equal(bps, good[i].bps);
	}
	assert_int_equal(vd_units_rate("10", &bps, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"10\": a rate needs a unit"));
	assert_int_equal(vd_units_rate("10mb", &bps, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"10mb\": unknown rate unit \"mb\""));
	assert_int_equal(vd_units_rate("0mbit", &bps, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"0mbit\": a rate must be at least 1bit"));
	assert_int_equal(vd_units_rate("fast", &bps, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"fast\" is not a rate"));
}

static void test_size(void **state)
{
	static const struct { const char *s; uint64_t bytes; } good[] = {
		{ "1500b", 1500 }, { "32kb", 32768 }, { "2mb", 2097152 }, { "1gb", 1073741824 },
		{ "10k", 10240 }, { "8kbit", 1024 }, { "0b", 0 },
	};
	char err[128];
	uint64_t bytes;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(vd_units_size(good[i].s, &bytes, err, sizeof(err)), 0);
		assert_int_equal(bytes, good[i].bytes);
	}
	assert_int_equal(vd_units_size("32", &bytes, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"32\": a size needs a unit (b, kb, mb, gb)"));
	assert_int_equal(vd_units_size("32kib", &bytes, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown size unit \"kib\""));
	assert_int_equal(vd_units_size("2000gb", &bytes, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "size too large"));
}

static void test_percent(void **state)
{
	char err[128];
	double f;

	(void)state;
	assert_int_equal(vd_units_percent("1%", &f, err, sizeof(err)), 0);
	assert_true(f > 0.00999999 && f < 0.01000001);
	assert_int_equal(vd_units_percent("0.5%", &f, err, sizeof(err)), 0);
	assert_true(f > 0.004999999 && f < 0.005000001);
	assert_int_equal(vd_units_percent("100%", &f, err, sizeof(err)), 0);
	assert_true(f == 1.0);
	assert_int_equal(vd_units_percent("0%", &f, err, sizeof(err)), 0);
	assert_true(f == 0.0);
	assert_int_equal(vd_units_percent("101%", &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"101%\": a percent is at most 100%"));
	assert_int_equal(vd_units_percent("1", &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"1\" is not a percent"));
	assert_int_equal(vd_units_percent("1%%", &f, err, sizeof(err)), -1);
	assert_int_equal(vd_units_percent("-1%", &f, err, sizeof(err)), -1);
	/* errlen 0: no write. */
	assert_int_equal(vd_units_percent("x", &f, NULL, 0), -1);
}

static void test_format(void **state)
{
	char buf[32];

	(void)state;
	vd_units_format_time(20000000, buf, sizeof(buf));
	assert_string_equal(buf, "20ms");
	vd_units_format_time(1500000000, buf, sizeof(buf));
	assert_string_equal(buf, "1.5s");
	vd_units_format_time(250000, buf, sizeof(buf));
	assert_string_equal(buf, "250us");
	vd_units_format_time(0, buf, sizeof(buf));
	assert_string_equal(buf, "0ns");
	vd_units_format_rate(10000000, buf, sizeof(buf));
	assert_string_equal(buf, "10mbit");
	vd_units_format_rate(64, buf, sizeof(buf));
	assert_string_equal(buf, "64bit");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time),   cmocka_unit_test(test_time_errors),
		cmocka_unit_test(test_rate),   cmocka_unit_test(test_size),
		cmocka_unit_test(test_percent), cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
