/*
 * lua_sandbox.c - the libraries a rules file's Lua sees (lua_sandbox.h).
 *
 * An allow-list (base, string, table, math, utf8, and our own shaping,
 * lua_shaping.h), the loading functions and string.dump removed, and every
 * library function whose work the count hook cannot see, or that Lua runs
 * with hooks off, replaced by one that charges the budget first
 * (lua_budget.h) or refuses.
 */
#include <stdbool.h>
#include <stdint.h>

#include <lauxlib.h>
#include <lualib.h>

#include "log.h"
#include "lua_budget.h"
#include "lua_pattern.h"
#include "lua_sandbox.h"
#include "lua_shaping.h"

/* --- print --- */

void vd_lua_sandbox_print_flush(struct vd_lua_print *pr)
{
	if (pr->suppressed)
		vd_log(VD_LOG_INFO, "lua: %llu more print lines suppressed (at most %d a second)",
		       (unsigned long long)pr->suppressed, VD_LUA_PRINT_PER_SECOND);
	pr->suppressed = 0;
}

static int sandbox_print(lua_State *L)
{
	struct vd_lua_print *pr = lua_touserdata(L, lua_upvalueindex(1));
	time_t now = time(NULL);
	int n = lua_gettop(L);
	luaL_Buffer b;

	if (now != pr->second) {
		vd_lua_sandbox_print_flush(pr);
		pr->second = now;
		pr->lines = 0;
	}
	if (pr->lines >= VD_LUA_PRINT_PER_SECOND) {
		pr->suppressed++;
		return 0;
	}
	pr->lines++;
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	vd_log(VD_LOG_INFO, "lua: %s", lua_tostring(L, -1));
	return 0;
}

/* --- finalizers and handlers --- */

/* setmetatable(t, mt) as Lua's, but a metatable with __gc is refused: Lua
 * marks a table for finalization only when its metatable has __gc at this
 * moment, so adding the field later has no effect. */
static int sandbox_setmetatable(lua_State *L)
{
	int t = lua_type(L, 2);

	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
	if (t == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return luaL_error(L, "setmetatable: __gc finalizers are not available in the "
					  "sandbox");
		lua_pop(L, 1);
	}
	if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
		return luaL_error(L, "cannot change a protected metatable");
	lua_settop(L, 2);
	lua_setmetatable(L, 1);
	return 1;
}

/* xpcall(f, h, ...) with h called after f's error has unwound, with hooks
 * on: an h that loops then meets the budget like any other code. */
static int sandbox_xpcall(lua_State *L)
{
	int n = lua_gettop(L), status;

	luaL_checktype(L, 2, LUA_TFUNCTION);
	luaL_checkstack(L, n, "too many arguments");
	lua_pushvalue(L, 1);
	for (int i = 3; i <= n; i++)
		lua_pushvalue(L, i);
	status = lua_pcall(L, n - 2, LUA_MULTRET, 0);
	if (status == LUA_OK) {
		lua_pushboolean(L, 1);
		lua_insert(L, n + 1);
		return lua_gettop(L) - n;
	}
	if (status != LUA_ERRMEM) { /* as Lua: no handler for a memory error */
		lua_pushvalue(L, 2);
		lua_insert(L, -2);
		lua_pcall(L, 1, 1, 0);
	}
	lua_pushboolean(L, 0);
	lua_insert(L, -2);
	return 2;
}

/* --- library functions that loop in C --- */

/* Calls the library's own function (upvalue 1) with this call's arguments. */
static int call_library(lua_State *L)
{
	int n = lua_gettop(L);

	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, n, LUA_MULTRET);
	return lua_gettop(L);
}

/* Charges one instruction per element of i..j. */
static void charge_range(lua_State *L, lua_Integer i, lua_Integer j, const char *what)
{
	uint64_t n;

	if (j < i)
		return;
	n = (uint64_t)j - (uint64_t)i;
	vd_lua_budget_charge(L, n == UINT64_MAX ? n : n + 1, what);
}

static int sandbox_rep(lua_State *L)
{
	lua_Integer n = luaL_checkinteger(L, 2);

	/* Each piece is a copy, even an empty one: string.rep("", 2^62) would
	 * loop for years without allocating a byte. */
	if (n > 0)
		vd_lua_budget_charge(L, (uint64_t)n / 8 + 1, "string.rep");
	return call_library(L);
}

/* table.concat(t, sep, i, j) and table.unpack(t, i, j): the range is read
 * once, here, and passed on, so that a __len cannot answer differently. */
static int with_range(lua_State *L, int first, const char *what)
{
	lua_Integer i, j;

	luaL_checktype(L, 1, LUA_TTABLE);
	i = luaL_optinteger(L, first, 1);
	j = lua_isnoneornil(L, first + 1) ? luaL_len(L, 1) : luaL_checkinteger(L, first + 1);
	charge_range(L, i, j, what);
	lua_settop(L, first - 1);
	lua_pushinteger(L, i);
	lua_pushinteger(L, j);
	return call_library(L);
}

static int sandbox_concat(lua_State *L)
{
	return with_range(L, 3, "table.concat");
}

static int sandbox_unpack(lua_State *L)
{
	return with_range(L, 2, "table.unpack");
}

static int sandbox_move(lua_State *L)
{
	charge_range(L, luaL_checkinteger(L, 2), luaL_checkinteger(L, 3), "table.move");
	return call_library(L);
}

/* The length of table 1, which must have no __len: the library reads it
 * again and must get the same answer as the charge. */
static lua_Integer plain_length(lua_State *L, const char *what)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	if (luaL_getmetafield(L, 1, "__len") != LUA_TNIL)
		luaL_error(L, "%s: a table with a __len metamethod is not supported in the sandbox",
			   what);
	return (lua_Integer)lua_rawlen(L, 1);
}

static int sandbox_insert(lua_State *L)
{
	lua_Integer n = plain_length(L, "table.insert");

	if (lua_gettop(L) == 3) /* the elements from pos on move up */
		charge_range(L, luaL_checkinteger(L, 2), n, "table.insert");
	return call_library(L);
}

static int sandbox_remove(lua_State *L)
{
	lua_Integer n = plain_length(L, "table.remove");

	charge_range(L, luaL_optinteger(L, 2, n), n, "table.remove");
	return call_library(L);
}

static int sandbox_sort(lua_State *L)
{
	lua_Integer n = plain_length(L, "table.sort");
	uint64_t cost = (uint64_t)n;

	for (uint64_t k = (uint64_t)n; k > 1; k >>= 1) /* n log n comparisons */
		cost = cost > UINT64_MAX - (uint64_t)n ? UINT64_MAX : cost + (uint64_t)n;
	vd_lua_budget_charge(L, cost, "table.sort");
	return call_library(L);
}

/* Replaces field name of the table at the top with fn, the library's own
 * function as its upvalue. */
static void wrap(lua_State *L, const char *name, lua_CFunction fn)
{
	lua_getfield(L, -1, name);
	lua_pushcclosure(L, fn, 1);
	lua_setfield(L, -2, name);
}

/* --- the whole --- */

void vd_lua_sandbox_build(lua_State *L, struct vd_lua_print *pr)
{
	static const luaL_Reg libs[] = {
		{ LUA_GNAME, luaopen_base },     { LUA_STRLIBNAME, luaopen_string },
		{ LUA_TABLIBNAME, luaopen_table }, { LUA_MATHLIBNAME, luaopen_math },
		{ LUA_UTF8LIBNAME, luaopen_utf8 },
	};
	static const char *const banned[] = { "dofile", "loadfile", "load", "require",
					      "collectgarbage", "warn" };

	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		luaL_requiref(L, libs[i].name, libs[i].func, 1);
		lua_pop(L, 1);
	}
	for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++) {
		lua_pushnil(L);
		lua_setglobal(L, banned[i]);
	}
	/* package.loaded still lists the libraries; nothing can reach it. */
	lua_pushlightuserdata(L, pr);
	lua_pushcclosure(L, sandbox_print, 1);
	lua_setglobal(L, "print");
	lua_register(L, "setmetatable", sandbox_setmetatable);
	lua_register(L, "xpcall", sandbox_xpcall);
	vd_lua_shaping_open(L);

	lua_getglobal(L, LUA_STRLIBNAME); /* also strings' __index */
	lua_pushnil(L);
	lua_setfield(L, -2, "dump"); /* would hand out bytecode */
	vd_lua_pattern_install(L);
	wrap(L, "rep", sandbox_rep);
	lua_pop(L, 1);

	lua_getglobal(L, LUA_TABLIBNAME);
	wrap(L, "concat", sandbox_concat);
	wrap(L, "unpack", sandbox_unpack);
	wrap(L, "move", sandbox_move);
	wrap(L, "insert", sandbox_insert);
	wrap(L, "remove", sandbox_remove);
	wrap(L, "sort", sandbox_sort);
	lua_pop(L, 1);
}
