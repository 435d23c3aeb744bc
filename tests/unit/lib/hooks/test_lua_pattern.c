/* test_lua_pattern.c - the sandbox's pattern functions (lua_pattern.c):
 * pathological patterns end within the budget with a clear error, and every
 * other result is the stock Lua 5.4 library's, compared case by case. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua_fixture.h"

static void test_pathological_patterns_end_in_budget(void **state)
{
	static const struct {
		const char *hook, *message;
	} cases[] = {
		{ "find", "exhausted (in string.find)" },
		{ "gsub", "exhausted (in string.gsub)" },
		{ "gmatch", "exhausted (in string.gmatch)" },
		{ "match_opt", "pattern too complex" }, /* 200 nested items at most */
		{ "opt_150", "exhausted (in string.match)" },
		{ "balance", "exhausted (in string.find)" },
		{ "backref", "exhausted (in string.find)" },
		/* every step reads a 40,000-character set: charged by its
		 * length, it ends on the count, long before the 5 s clock */
		{ "long_set", "instruction budget exhausted (in string.find)" },
	};

	(void)state;
	vt_lua_guard(60);
	assert_int_equal(vt_lua_load(
		"local a30k = string.rep('a', 30000)\n"
		"local dots = string.rep('.-', 12) .. 'b'\n"
		"local parens, a2m, a1mb = string.rep('(', 100000), string.rep('a', 1 << 21), string.rep('a', 1 << 20) .. 'b'\n"
		"local function run(f) return function() f() return 'accept' end end\n"
		"return {\n"
		"  find = run(function() string.find(a30k, dots) end),\n"
		"  gsub = run(function() string.gsub(a30k, dots, 'x') end),\n"
		"  gmatch = run(function() for _ in a30k:gmatch(dots) do end end),\n"
		"  match_opt = run(function() string.match(a30k, string.rep('a?', 5000) .. 'b') end),\n"
		"  opt_150 = run(function() string.match(string.rep('a', 150), string.rep('a?', 150) .. string.rep('a', 150)) end),\n"
		"  balance = run(function() string.find(parens, '%b()') end),\n"
		"  plain = run(function() string.find(a2m, a1mb, 1, true) end),\n"
		"  backref = run(function() string.find(string.rep('a', 20000), '(a*)%1b') end),\n"
		"  long_set = run(function() string.find(a30k, '[' .. string.rep('b', 40000) .. 'a]*c') end),\n"
		"  ordinary = function(pkt)\n"
		"    local payload = pkt:payload()\n"
		"    local a, b = string.match('10.20', '^(%d+)%.(%d+)')\n"
		"    if string.find(payload, 'GET /', 1, true) == 1 and a == '10' and b == '20'\n"
		"       and payload:match('^(%u+) (%S+)') == 'GET' then return 'accept' end\n"
		"  end,\n"
		"}\n", &(struct vd_lua_limits){ .call_ms = 5000 }), 0);
	/* A call budget of 5 s: the pathological cases end on the instruction
	 * count (the messages say "exhausted" either way), and the plain search
	 * below gets room on a loaded, sanitized build. */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		vt_lua_expect_failure(cases[i].hook, 1000, cases[i].message);
	assert_int_equal(vt_lua_call("ordinary"), VD_VERDICT_ACCEPT);
	/* A plain search is linear (the stock one is quadratic: 2^40 steps). */
	uint64_t t0 = vt_lua_ms();
	assert_int_equal(vt_lua_call("plain"), VD_VERDICT_ACCEPT);
	assert_true(vt_lua_ms() - t0 < 5000);
	/* The same patterns at load time have the larger budget, and end too. */
	vd_lua_close(vt_lua);
	vt_lua = NULL;
	assert_int_equal(vt_lua_load("string.find(string.rep('a', 30000), string.rep('.-', 12) .. 'b')\n"
				     "return {}\n", &(struct vd_lua_limits){ .load_ms = 500 }), -1);
	assert_non_null(strstr(vt_lua_err, "budget"));
	assert_non_null(strstr(vt_lua_err, "string.find"));
}

/* Runs every pattern function over subjects x patterns x arguments; the
 * script returns one line per case. */
static const char differential[] =
	"local out = {}\n"
	"local function ser(...)\n"
	"  local t = {}\n"
	"  for i = 1, select('#', ...) do local v = select(i, ...) t[#t + 1] = type(v) .. ':' .. tostring(v) end\n"
	"  return table.concat(t, ',')\n"
	"end\n"
	"local function try(f, ...)\n"
	"  local r = table.pack(pcall(f, ...))\n"
	"  if not r[1] and type(r[2]) == 'string' then\n" /* without the chunk's name */
	"    local at = string.find(r[2], ': ', 1, true)\n"
	"    if at then r[2] = r[2]:sub(at + 2) end\n"
	"  end\n"
	"  return ser(table.unpack(r, 1, r.n))\n"
	"end\n"
	"local subjects = { '', 'hello world', 'GET / HTTP/1.1\\r\\nHost: x\\r\\n', 'a,b,,c',\n"
	"  '(foo(bar))baz', 'THE (quick) fox', '  trim me  ', 'key=val; k2=v2', 'aaa', '\\0a\\0b',\n"
	"  '192.168.10.1', 'x = 1 + 2', 'caf\\xc3\\xa9 ]x[' }\n"
	"local patterns = { 'o', 'l+', 'l*', 'l-', 'l?', '^h', 'd$', '%a+', '%A+', '%d+',\n"
	"  '(%d+)%.(%d+)', '^(%d+)%.(%d+)', '[%w_]+', '[^,]*', '%b()', '%f[%a]%a+', '%f[%A]',\n"
	"  '(a*(.)%w(%s*))', '()ll()', '(%a+)=(%a+)', '^%s*(.-)%s*$', '(.)%1', '[a-c]+', '[]]',\n"
	"  '[^%s]+', '%', '[a', '(', ')', '%b', '%bx', '%f', '%fa', '(()', '%1', '%0', '.-b', 'H%u+',\n"
	"  '[%]]', '%z', '\\0', '%c', '%p+', '%x+', '%g+', '[%a-]+', '[a-]', '$', '^', '^$', 'a$b',\n"
	"  '%$', 'x*$', '[^]x]', '[\\xc3-\\xff]+', '%w-%.', 'a-$', '(h)(e)(l)(l)(o)', '%S+$', '.',\n"
	"  '((a)(b)', '(a)(b))', '[%', '[^' }\n"
	"local repls = { '<%0>', '%1', '%2', '%%', '%x', '%', { hello = 'HI', l = false, a = 1 },\n"
	"  function(a, b) return b end, function() return {} end }\n"
	"for _, s in ipairs(subjects) do for _, p in ipairs(patterns) do\n"
	"  out[#out + 1] = try(string.find, s, p)\n"
	"  out[#out + 1] = try(string.find, s, p, 3)\n"
	"  out[#out + 1] = try(string.find, s, p, -4, true)\n"
	"  out[#out + 1] = try(string.find, s, p, 100)\n"
	"  out[#out + 1] = try(string.match, s, p)\n"
	"  out[#out + 1] = try(string.match, s, p, -3)\n"
	"  for _, r in ipairs(repls) do\n"
	"    out[#out + 1] = try(string.gsub, s, p, r)\n"
	"    out[#out + 1] = try(string.gsub, s, p, r, 1)\n"
	"  end\n"
	"  for _, init in ipairs({ 1, 2, -3, 100 }) do\n"
	"    out[#out + 1] = try(function()\n"
	"      local r = {}\n"
	"      for a, b in string.gmatch(s, p, init) do r[#r + 1] = ser(a, b) end\n"
	"      return table.concat(r, '|')\n"
	"    end)\n"
	"  end\n"
	"end end\n"
	"out[#out + 1] = try(string.gsub, 'abc', 'b')\n"
	"out[#out + 1] = try(string.gsub, 'abc', '%w', '%1', -1)\n"
	"out[#out + 1] = try(string.find, 12345, 3)\n"
	"out[#out + 1] = try(string.gsub, 'abc', '', '-')\n"
	"out[#out + 1] = ser(('x'):rep(3):find('x', 2))\n"
	"return { results = out }\n";

static void test_results_match_the_stock_library(void **state)
{
	lua_State *stock = luaL_newstate();
	lua_State *L;
	size_t n, differ = 0;

	(void)state;
	vt_lua_guard(60);
	luaL_openlibs(stock);
	if (luaL_dostring(stock, differential) != LUA_OK)
		fail_msg("stock: %s", lua_tostring(stock, -1));
	if (vt_lua_load(differential, &(struct vd_lua_limits){ .memory_bytes = 256 << 20 }) != 0)
		fail_msg("sandbox: %s", vt_lua_err);
	L = vd_lua_state(vt_lua);
	vd_lua_push_result(vt_lua);
	lua_getfield(L, -1, "results");
	lua_getfield(stock, -1, "results");
	n = lua_rawlen(stock, -1);
	assert_int_equal(lua_rawlen(L, -1), n);
	assert_true(n > 10000);
	for (size_t i = 1; i <= n; i++) {
		lua_rawgeti(stock, -1, (lua_Integer)i);
		lua_rawgeti(L, -1, (lua_Integer)i);
		if (strcmp(lua_tostring(stock, -1), lua_tostring(L, -1)) != 0 && differ++ < 10)
			print_error("case %zu: stock %s\n             sandbox %s\n", i,
				    lua_tostring(stock, -1), lua_tostring(L, -1));
		lua_pop(stock, 1);
		lua_pop(L, 1);
	}
	lua_settop(L, 0);
	lua_close(stock);
	assert_int_equal(differ, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_pathological_patterns_end_in_budget, vt_lua_teardown),
		cmocka_unit_test_teardown(test_results_match_the_stock_library, vt_lua_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
