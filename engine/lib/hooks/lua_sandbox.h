/*
 * lua_sandbox.h - what a rules file's Lua can reach: the allow-listed
 * libraries, a rate-limited print, and replacements for the library
 * functions that could run without a budget.
 *
 * Replaced: setmetatable refuses a metatable with a __gc field (Lua runs
 * finalizers with hooks off, so nothing could stop one that loops, and they
 * run in lua_close and at any allocation); xpcall calls its handler after
 * the failed call has unwound (Lua calls it inside the error, with hooks off
 * when the error came from the budget's hook); string.find/match/gmatch/gsub
 * match on a budgeted matcher (lua_pattern.h); string.rep and table.concat,
 * unpack, move, insert, remove and sort charge the budget for the elements
 * they will touch before touching them (insert, remove and sort refuse a
 * table with a __len metamethod, whose answer could change between the
 * charge and the work).
 *
 * Threading: belongs to its lua_State.
 */
#ifndef VD_LUA_SANDBOX_H
#define VD_LUA_SANDBOX_H

#include <stdint.h>
#include <time.h>

#include <lua.h>

/* print: at most this many lines a second per state; the rest are counted
 * and reported in one line ("lua: N more print lines suppressed") with the
 * next line printed in a later second, or when the state closes. */
#define VD_LUA_PRINT_PER_SECOND 10

struct vd_lua_print {
	time_t second;       /* of the lines counted in `lines` */
	unsigned lines;
	uint64_t suppressed; /* not reported yet */
};

/* Opens the allowed libraries into L and removes or replaces the rest; pr
 * (which must outlive L) holds print's rate limit. May raise a memory error:
 * call in protected mode. */
void vd_lua_sandbox_build(lua_State *L, struct vd_lua_print *pr);

/* Logs the count of suppressed print lines, if any. */
void vd_lua_sandbox_print_flush(struct vd_lua_print *pr);

#endif
