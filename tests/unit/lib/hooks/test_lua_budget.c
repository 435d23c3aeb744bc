/* test_lua_budget.c - every entry into Lua has a budget (lua_budget.c):
 * finalizers, xpcall handlers, C library loops, the load's larger budget,
 * the wall clock, cancellation, lua_close; and print's rate limit. Each case
 * used to hang or flood: a guard kills a test that runs too long. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <lauxlib.h>

#include "lua_fixture.h"

#define LOOP "function() while true do end end"

static void test_finalizer_at_load_is_refused(void **state)
{
	(void)state;
	vt_lua_guard(20);
	assert_int_equal(vt_lua_load("setmetatable({}, { __gc = " LOOP " })\nreturn {}\n", NULL), -1);
	assert_non_null(strstr(vt_lua_err, "__gc"));
	vd_lua_close(vt_lua); /* used to run the finalizer: for ever */
	vt_lua = NULL;
	/* __gc = true first, a function later: Lua would still finalize. */
	assert_int_equal(vt_lua_load("local mt = { __gc = true }\nsetmetatable({}, mt)\n"
				     "mt.__gc = " LOOP "\nreturn {}\n", NULL), -1);
	vd_lua_close(vt_lua);
	vt_lua = NULL;
	/* A __gc added after setmetatable is never called (Lua's rule). */
	assert_int_equal(vt_lua_load("local mt = {}\nsetmetatable({}, mt)\nmt.__gc = " LOOP "\n"
				     "return {}\n", NULL), 0);
}

static void test_finalizer_from_a_hook_is_refused(void **state)
{
	(void)state;
	vt_lua_guard(20);
	assert_int_equal(vt_lua_load("return {\n"
				     "  make = function() setmetatable({}, { __gc = " LOOP " }) return 'accept' end,\n"
				     "  churn = function() for i = 1, 1000 do local t = { i } end return 'accept' end,\n"
				     "}\n", NULL), 0);
	vt_lua_expect_failure("make", 5000, "__gc finalizers are not available");
	/* GC steps in later calls and lua_close (teardown) find nothing to run. */
	for (int i = 0; i < 50; i++)
		assert_int_equal(vt_lua_call("churn"), VD_VERDICT_ACCEPT);
}

static void test_xpcall_handler_cannot_outlive_the_budget(void **state)
{
	(void)state;
	vt_lua_guard(20);
	assert_int_equal(vt_lua_load("return {\n"
				     "  spin = function() xpcall(" LOOP ", " LOOP ") return 'accept' end,\n"
				     "  again = function()\n"
				     "    while true do xpcall(" LOOP ", function(e) return e end) end\n"
				     "  end,\n"
				     "  plain = function()\n"
				     "    local ok, m = xpcall(error, function(e) return 'h:' .. e end, 'x', 0)\n"
				     "    local ok2, a, b = xpcall(function(p, q) return p + q, 'r' end, print, 1, 2)\n"
				     "    if ok == false and m == 'h:x' and ok2 and a == 3 and b == 'r' then\n"
				     "      return 'accept' end\n"
				     "  end,\n"
				     "}\n", NULL), 0);
	vt_lua_expect_failure("spin", 5000, "budget");
	vt_lua_expect_failure("again", 5000, "budget");
	assert_int_equal(vt_lua_call("plain"), VD_VERDICT_ACCEPT);
	/* At load time too. */
	vd_lua_close(vt_lua);
	vt_lua = NULL;
	struct vd_lua_limits lim = { .load_instructions = 100000 };
	assert_int_equal(vt_lua_load("xpcall(" LOOP ", " LOOP ")\nreturn {}\n", &lim), -1);
	assert_non_null(strstr(vt_lua_err, "instruction budget"));
}

static void test_library_loops_are_charged(void **state)
{
	(void)state;
	vt_lua_guard(30);
	assert_int_equal(vt_lua_load(
		"local sink = setmetatable({}, { __index = table.concat })\n"
		"local zero = setmetatable({}, { __index = rawlen })\n"
		"local long = setmetatable({}, { __len = function() return 1e15 end })\n"
		"return {\n"
		"  rep = function() string.rep('', 1 << 62) return 'accept' end,\n"
		"  rep_sep = function() string.rep('', 1 << 40, '') return 'accept' end,\n"
		"  concat = function() table.concat(sink, '', 1, 1e15) return 'accept' end,\n"
		"  move = function() table.move({}, 1, 1e15, 2) return 'accept' end,\n"
		"  unpack = function() for i = 1, 1000 do table.unpack(zero, 1, 100000) end end,\n"
		"  remove = function() table.remove(long, 1) return 'accept' end,\n"
		"  insert = function() table.insert(long, 1, 'x') return 'accept' end,\n"
		"  sort = function()\n"
		"    table.sort(setmetatable({}, { __len = function() return 2^31 - 2 end, __index = rawlen }))\n"
		"  end,\n"
		"  ordinary = function()\n"
		"    local t = { 3, 1, 2 }\n"
		"    table.sort(t) table.insert(t, 4) table.insert(t, 1, 0) table.remove(t, 1)\n"
		"    local a, b = table.unpack(t, 2, 3)\n"
		"    if table.concat(t, ',') == '1,2,3,4' and a == 2 and b == 3\n"
		"       and string.rep('ab', 3, '-') == 'ab-ab-ab' and #string.rep('x', 30000) == 30000\n"
		"       and table.move({ 1, 2 }, 1, 2, 2)[3] == 2 then return 'accept' end\n"
		"  end,\n"
		"}\n", NULL), 0);
	vt_lua_expect_failure("rep", 2000, "instruction budget exhausted (in string.rep)");
	vt_lua_expect_failure("rep_sep", 2000, "(in string.rep)");
	vt_lua_expect_failure("concat", 2000, "(in table.concat)");
	vt_lua_expect_failure("move", 2000, "(in table.move)");
	vt_lua_expect_failure("unpack", 2000, "(in table.unpack)");
	vt_lua_expect_failure("remove", 2000, "__len metamethod is not supported");
	vt_lua_expect_failure("insert", 2000, "__len metamethod is not supported");
	vt_lua_expect_failure("sort", 2000, "__len metamethod is not supported");
	assert_int_equal(vt_lua_call("ordinary"), VD_VERDICT_ACCEPT);
}

static void test_load_has_a_larger_budget(void **state)
{
	struct vd_lua_limits small = { .load_instructions = 100000 };

	(void)state;
	vt_lua_guard(60);
	/* 300,000 iterations: more than a hook call's 1,000,000 instructions. */
	assert_int_equal(vt_lua_load("local set = {}\n"
				     "for i = 1, 300000 do set[#set + 1] = '10.' .. (i % 256) .. '.0.0/16' end\n"
				     "return { n = #set, f = function() return 'accept' end }\n", NULL), 0);
	assert_int_equal(vt_lua_call("f"), VD_VERDICT_ACCEPT);
	vd_lua_close(vt_lua);
	vt_lua = NULL;
	/* The load budget is configurable, and a hook call still has its own. */
	assert_int_equal(vt_lua_load("for i = 1, 300000 do end\nreturn {}\n", &small), -1);
	assert_non_null(strstr(vt_lua_err, "instruction budget exhausted"));
}

static void test_wall_clock_holds_when_instructions_do_not(void **state)
{
	struct vd_lua_limits lim = { .instructions = 4000000000u, .call_ms = 100,
				     .load_instructions = UINT64_MAX, .load_ms = 300 };
	uint64_t t0;

	(void)state;
	vt_lua_guard(20);
	t0 = vt_lua_ms();
	assert_int_equal(vt_lua_load("while true do end\n", &lim), -1);
	assert_non_null(strstr(vt_lua_err, "time budget of 300 ms exhausted"));
	assert_true(vt_lua_ms() - t0 < 1500);
	vd_lua_close(vt_lua);
	vt_lua = NULL;
	/* Slow instructions: comparing two 8 MB strings, 1,000 times between
	 * two ticks of a fixed 1,000-instruction period, would take seconds. */
	assert_int_equal(vt_lua_load("local a = string.rep('a', 8 << 20)\n"
				     "local b = string.rep('a', 8 << 20)\n"
				     "return { spin = " LOOP ",\n"
				     "  slow = function() while true do local _ = a < b end end }\n",
				     &(struct vd_lua_limits){ .instructions = 4000000000u, .call_ms = 100 }), 0);
	vt_lua_expect_failure("spin", 1000, "time budget of 100 ms exhausted");
	vt_lua_expect_failure("slow", 1000, "time budget of 100 ms exhausted");
}

static void test_cancellation(void **state)
{
	atomic_int cancel = 0;
	struct vd_lua_limits lim = { .cancel = &cancel, .load_ms = 60000 };

	(void)state;
	vt_lua_guard(20);
	assert_int_equal(vt_lua_load("return { spin = " LOOP ", ok = function() return 'accept' end }\n",
				     &lim), 0);
	assert_int_equal(vt_lua_call("ok"), VD_VERDICT_ACCEPT);
	atomic_store(&cancel, 1);
	vt_lua_expect_failure("spin", 1000, "cancelled");
	vd_lua_close(vt_lua);
	vt_lua = NULL;
	assert_int_equal(vt_lua_load("while true do end\n", &lim), -1);
	assert_non_null(strstr(vt_lua_err, "cancelled"));
	vd_lua_close(vt_lua);
	vt_lua = NULL;
	assert_int_equal(vt_lua_load("string.find(string.rep('a', 30000), string.rep('.-', 12) .. 'b')\n",
				     &lim), -1);
	assert_non_null(strstr(vt_lua_err, "cancelled"));
}

static void test_loader_reads_are_budgeted(void **state)
{
	lua_State *L;
	int status;

	(void)state;
	vt_lua_guard(60);
	/* The loader reads the table after the run: its metamethods spend what
	 * the run left of the load budget. The instruction budget is set far
	 * out of reach, so that the clock is what stops the loop: 200,000,000
	 * instructions (the default) can run out first on a fast machine. */
	assert_int_equal(vt_lua_load("return setmetatable({}, { __index = " LOOP " })\n",
				     &(struct vd_lua_limits){ .load_ms = 500,
							      .load_instructions = UINT64_MAX / 2 }),
			 0);
	L = vd_lua_state(vt_lua);
	status = luaL_loadstring(L, "local t = ... return t.rules");
	assert_int_equal(status, LUA_OK);
	vd_lua_push_result(vt_lua);
	status = lua_pcall(L, 1, 1, 0);
	assert_int_not_equal(status, LUA_OK);
	assert_non_null(strstr(lua_tostring(L, -1), "time budget"));
	lua_pop(L, 1);
}

static void test_print_is_rate_limited(void **state)
{
	(void)state;
	vt_lua_guard(20);
	assert_int_equal(vt_lua_load("return { chatty = function()\n"
				     "  for i = 1, 100 do print('line', i) end return 'accept' end }\n",
				     NULL), 0);
	assert_int_equal(vt_lua_call("chatty"), VD_VERDICT_ACCEPT);
	unsigned shown = vt_lua_log_count("lua: line");
	/* One second holds at most 10; the call may straddle two. */
	assert_true(shown >= 10 && shown <= 20);
	vd_lua_close(vt_lua);
	vt_lua = NULL;
	const char *p = strstr(vt_lua_log, "more print lines suppressed");
	assert_non_null(p);
	unsigned long suppressed = 0;
	for (const char *l = vt_lua_log; (l = strstr(l, "lua: ")); l++)
		if (sscanf(l, "lua: %lu more print lines suppressed", &suppressed) == 1)
			shown += (unsigned)suppressed;
	assert_int_equal(shown, 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_finalizer_at_load_is_refused, vt_lua_teardown),
		cmocka_unit_test_teardown(test_finalizer_from_a_hook_is_refused, vt_lua_teardown),
		cmocka_unit_test_teardown(test_xpcall_handler_cannot_outlive_the_budget, vt_lua_teardown),
		cmocka_unit_test_teardown(test_library_loops_are_charged, vt_lua_teardown),
		cmocka_unit_test_teardown(test_load_has_a_larger_budget, vt_lua_teardown),
		cmocka_unit_test_teardown(test_wall_clock_holds_when_instructions_do_not, vt_lua_teardown),
		cmocka_unit_test_teardown(test_cancellation, vt_lua_teardown),
		cmocka_unit_test_teardown(test_loader_reads_are_budgeted, vt_lua_teardown),
		cmocka_unit_test_teardown(test_print_is_rate_limited, vt_lua_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
