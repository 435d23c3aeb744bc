/*
 * lua_pattern.h - string.find, string.match, string.gmatch and string.gsub
 * for the sandbox, with Lua 5.4's pattern language and results, on a
 * matcher that charges its steps to the entry's budget (lua_budget.h).
 *
 * Lua's own matcher is recursive C with no hook: a pattern such as
 * string.rep(".-", 12) .. "b" on 30,000 bytes backtracks for ever without
 * executing one VM instruction. This one counts every step (a pattern item
 * tried at a subject position, a character a quantifier or %b scans, a
 * byte a back-reference compares / 32) as one instruction, so a match ends
 * with "instruction budget exhausted (in string.find)" or the time budget,
 * like a loop in Lua would. Plain searches (string.find's fourth argument,
 * or a pattern with no special character) use memmem: linear time, charged
 * one instruction per 64 bytes.
 */
#ifndef VD_LUA_PATTERN_H
#define VD_LUA_PATTERN_H

#include <lua.h>

/* Replaces find, match, gmatch and gsub in the table at the top of L's
 * stack (the string library). May raise a memory error. */
void vd_lua_pattern_install(lua_State *L);

#endif
