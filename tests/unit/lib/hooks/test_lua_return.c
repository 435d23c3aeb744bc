/* test_lua_return.c - what a Lua hook may return (lua_return.c): the
 * options table's delay and mark, together and apart, the errors that name
 * a bad option, and the older return forms left as they were. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lua_fixture.h"

static const char hooks[] =
	"return {\n"
	"  d20 = function() return 'accept', { delay = 0.020 } end,\n"
	"  d_zero = function() return 'accept', { delay = 0 } end,\n"
	"  d_int = function() return 'accept', { delay = 2 } end,\n"
	"  d_tiny = function() return 'accept', { delay = 1e-9 } end,\n"
	"  d_subus = function() return 'accept', { delay = 1.4e-6 } end,\n"
	"  d_drop = function() return 'drop', { delay = 0.5 } end,\n"
	"  d_repeat = function() return REPEAT, { delay = 0.001 } end,\n"
	"  d_queue = function() return 'queue', { queue = 4, delay = 0.25, bypass = true } end,\n"
	"  d_longest = function() return 'accept', { delay = 4294.967295 } end,\n"
	"  m_number = function() return 'accept', { mark = 0x10 } end,\n"
	"  m_table = function() return 'accept', { mark = { value = 0x10, mask = 0xf0 } } end,\n"
	"  both = function() return 'accept', { delay = 0.003, mark = 7 } end,\n"
	"  both_table = function() return 'repeat', { mark = { 0x20, 0x30 }, delay = 1 } end,\n"
	"  old_mark = function() return 'accept', 0x10 end,\n"
	"  old_masked = function() return DROP, { value = 0x100, mask = 0xf00 } end,\n"
	"  old_queue = function() return 'queue', 3 end,\n"
	"  old_plain = function() return 'accept' end,\n"
	"  old_empty = function() return 'accept', {} end,\n"
	"  e_key = function() return 'accept', { delya = 0.1 } end,\n"
	"  e_string = function() return 'accept', { delay = '20ms' } end,\n"
	"  e_bool = function() return 'accept', { delay = true } end,\n"
	"  e_negative = function() return 'accept', { delay = -0.001 } end,\n"
	"  e_nan = function() return 'accept', { delay = 0/0 } end,\n"
	"  e_huge = function() return 'accept', { delay = math.huge } end,\n"
	"  e_long = function() return 'accept', { delay = 4295 } end,\n"
	"  e_mixed = function() return 'accept', { value = 1, delay = 1 } end,\n"
	"  e_mark = function() return 'accept', { delay = 1, mark = -1 } end,\n"
	"  e_mark_key = function() return 'accept', { mark = { 1, 2, 3 } } end,\n"
	"}\n";

static void expect(const char *name, struct vd_verdict want)
{
	bool failed = true;
	struct vd_verdict v = vt_lua_verdict(name, &failed);

	if (failed)
		fail_msg("hook %s failed: %s", name, vt_lua_log);
	if (!vd_verdict_equal(v, want))
		fail_msg("hook %s: kind %u mark %#x/%#x delay %u us, want kind %u mark %#x/%#x delay "
			 "%u us", name, v.kind, v.mark, v.mark_mask, v.delay_us, want.kind, want.mark,
			 want.mark_mask, want.delay_us);
}

static struct vd_verdict held(struct vd_verdict v, uint32_t us)
{
	v.delay_us = us;
	return v;
}

static struct vd_verdict marked(struct vd_verdict v, uint32_t value, uint32_t mask)
{
	return vd_verdict_with_mark(v, value, mask);
}

static void test_delay_option(void **state)
{
	(void)state;
	assert_int_equal(vt_lua_load(hooks, NULL), 0);
	expect("d20", held(vd_verdict_accept(), 20000));
	expect("d_zero", vd_verdict_accept());
	expect("d_int", held(vd_verdict_accept(), 2000000));
	expect("d_tiny", held(vd_verdict_accept(), 1));
	expect("d_subus", held(vd_verdict_accept(), 2));
	expect("d_drop", held(vd_verdict_drop(), 500000));
	expect("d_repeat", held(vd_verdict_repeat(), 1000));
	expect("d_queue", held(vd_verdict_queue(4, true), 250000));
	expect("d_longest", held(vd_verdict_accept(), VD_VERDICT_MAX_DELAY_US));
}

static void test_mark_option_and_both(void **state)
{
	(void)state;
	assert_int_equal(vt_lua_load(hooks, NULL), 0);
	expect("m_number", marked(vd_verdict_accept(), 0x10, UINT32_MAX));
	expect("m_table", marked(vd_verdict_accept(), 0x10, 0xf0));
	expect("both", held(marked(vd_verdict_accept(), 7, UINT32_MAX), 3000));
	expect("both_table", held(marked(vd_verdict_repeat(), 0x20, 0x30), 1000000));
}

static void test_older_forms_unchanged(void **state)
{
	(void)state;
	assert_int_equal(vt_lua_load(hooks, NULL), 0);
	expect("old_mark", marked(vd_verdict_accept(), 0x10, UINT32_MAX));
	expect("old_masked", marked(vd_verdict_drop(), 0x100, 0xf00));
	expect("old_queue", vd_verdict_queue(3, false));
	expect("old_plain", vd_verdict_accept());
	expect("old_empty", vd_verdict_accept());
}

static void test_bad_options_name_the_option(void **state)
{
	(void)state;
	assert_int_equal(vt_lua_load(hooks, NULL), 0);
	vt_lua_expect_failure("e_key", 1000, "unknown option \"delya\" (delay, mark, queue, bypass, reject_with)");
	vt_lua_expect_failure("e_string", 1000, "option \"delay\" is not a number of seconds (a string)");
	vt_lua_expect_failure("e_bool", 1000, "option \"delay\" is not a number of seconds (a boolean)");
	vt_lua_expect_failure("e_negative", 1000, "option \"delay\" is -0.001, not a number of seconds");
	vt_lua_expect_failure("e_nan", 1000, "option \"delay\" is");
	vt_lua_expect_failure("e_huge", 1000, "option \"delay\" of inf s is over the longest delay");
	vt_lua_expect_failure("e_long", 1000, "option \"delay\" of 4295 s is over the longest delay");
	vt_lua_expect_failure("e_mixed", 1000, "table mixes a mark's value/mask with options");
	vt_lua_expect_failure("e_mark", 1000, "mark is not a 32-bit number");
	vt_lua_expect_failure("e_mark_key", 1000, "mark table has a value at [3]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_delay_option, vt_lua_teardown),
		cmocka_unit_test_teardown(test_mark_option_and_both, vt_lua_teardown),
		cmocka_unit_test_teardown(test_older_forms_unchanged, vt_lua_teardown),
		cmocka_unit_test_teardown(test_bad_options_name_the_option, vt_lua_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
