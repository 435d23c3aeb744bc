/* test_lua_sandbox.c - the sandbox's ban list, name by name (lua_sandbox.c):
 * each banned global or library function is absent at load time and from a
 * hook, by every path a script could take to it; what is refused refuses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lua_fixture.h"

/* Banned names and the expressions that would reach them. */
static const struct {
	const char *name, *paths;
} banned[] = {
	{ "io", "io, _G.io, _ENV.io, rawget(_G, 'io')" },
	{ "os", "os, _G.os, _ENV.os, rawget(_G, 'os')" },
	{ "package", "package, _G.package, rawget(_G, 'package')" },
	{ "debug", "debug, _G.debug, rawget(_G, 'debug')" },
	{ "coroutine", "coroutine, _G.coroutine, rawget(_G, 'coroutine')" },
	{ "require", "require, _G.require" },
	{ "load", "load, _G.load" },
	{ "loadfile", "loadfile, _G.loadfile" },
	{ "dofile", "dofile, _G.dofile" },
	{ "loadstring", "loadstring, _G.loadstring" },
	{ "collectgarbage", "collectgarbage, _G.collectgarbage" },
	{ "warn", "warn, _G.warn" },
	{ "string.dump", "string.dump, ('').dump, getmetatable('').__index.dump" },
	{ "module", "module" },
	{ "setfenv", "setfenv" },
	{ "getfenv", "getfenv" },
	{ "newproxy", "newproxy" },
	{ "gcinfo", "gcinfo" },
	{ "jit", "jit" },
	{ "ffi", "ffi" },
};

static void test_banned_names_are_absent(void **state)
{
	char text[1024];

	(void)state;
	vt_lua_guard(60);
	for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++) {
		snprintf(text, sizeof(text),
			 "local function absent(...)\n"
			 "  for i = 1, select('#', ...) do\n"
			 "    if select(i, ...) ~= nil then error('reachable: path ' .. i) end\n"
			 "  end\n"
			 "end\n"
			 "absent(%s)\n"
			 "return { hook = function() absent(%s) return 'accept' end }\n",
			 banned[i].paths, banned[i].paths);
		if (vt_lua_load(text, NULL) != 0)
			fail_msg("%s at load time: %s", banned[i].name, vt_lua_err);
		if (vt_lua_call("hook") != VD_VERDICT_ACCEPT)
			fail_msg("%s from a hook: %s", banned[i].name, vt_lua_log);
		vd_lua_close(vt_lua);
		vt_lua = NULL;
	}
}

/* Refusals: each expression must raise, at load time and in a hook. */
static const struct {
	const char *what, *code, *message;
} refused[] = {
	{ "__gc", "setmetatable({}, { __gc = function() end })", "__gc" },
	{ "__gc = true", "setmetatable({}, { __gc = true })", "__gc" },
	{ "protected metatable", "setmetatable(setmetatable({}, { __metatable = 1 }), {})", "protected" },
	{ "bytecode", "string.dump(print)", "dump" },
	{ "load through pcall", "assert(pcall(load, 'return 1'))", "attempt to call a nil value" },
};

static void test_refusals_refuse(void **state)
{
	char text[1024];

	(void)state;
	vt_lua_guard(60);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(text, sizeof(text), "%s\nreturn {}\n", refused[i].code);
		if (vt_lua_load(text, NULL) == 0 || !strstr(vt_lua_err, refused[i].message))
			fail_msg("%s at load time: not refused (%s)", refused[i].what, vt_lua_err);
		vd_lua_close(vt_lua);
		vt_lua = NULL;
		snprintf(text, sizeof(text), "return { hook = function() %s return 'accept' end }\n",
			 refused[i].code);
		assert_int_equal(vt_lua_load(text, NULL), 0);
		if (vt_lua_call("hook") != -1 || !strstr(vt_lua_log, refused[i].message))
			fail_msg("%s from a hook: not refused (%s)", refused[i].what, vt_lua_log);
		vd_lua_close(vt_lua);
		vt_lua = NULL;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_banned_names_are_absent, vt_lua_teardown),
		cmocka_unit_test_teardown(test_refusals_refuse, vt_lua_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
