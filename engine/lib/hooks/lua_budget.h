/*
 * lua_budget.h - how long one entry into a Lua state may run: instructions,
 * wall-clock time and a cancellation flag, checked by a count hook and by
 * the C functions of the sandbox that loop (lua_sandbox.c, lua_pattern.c).
 *
 * Threading: a budget belongs to its lua_State and is touched only by the
 * thread calling into that state; the cancellation flag alone is written by
 * another thread (read here with a relaxed load).
 */
#ifndef VD_LUA_BUDGET_H
#define VD_LUA_BUDGET_H

#include <stdatomic.h>
#include <stdint.h>

#include <lua.h>

struct vd_lua_budget {
	uint64_t limit;         /* instructions this entry may run */
	uint64_t spent;         /* counted so far: count-hook periods plus C charges */
	uint64_t deadline_ns;   /* CLOCK_MONOTONIC_COARSE */
	uint64_t last_tick_ns;  /* when the count hook last ran */
	unsigned ms;            /* the time budget, for the message */
	int period;             /* instructions between two count-hook ticks now */
	const atomic_int *cancel; /* non-zero: stop (NULL: never) */
	char why[64];           /* set once the entry is over budget: the error */
};

/* Ties b to L (through L's extra space); b must outlive L's last entry. */
void vd_lua_budget_attach(lua_State *L, struct vd_lua_budget *b);

/* Starts an entry into L: instructions and ms from now, fresh. One clock
 * read (a vDSO call, no syscall) and one lua_sethook: fit for the hot path. */
void vd_lua_budget_arm(lua_State *L, uint64_t instructions, unsigned ms);

/* Counts n instructions' worth of work that a C function does (what names
 * it, e.g. "string.find"), reads the clock and the cancellation flag, and
 * raises "<why> (in <what>)" when the entry is over budget. C functions call
 * it before a loop whose length the script chooses, and every few thousand
 * steps of one whose cost they cannot know in advance. May raise: call only
 * from a C function Lua called. */
void vd_lua_budget_charge(lua_State *L, uint64_t n, const char *what);

/* The error of an entry that went over budget, or NULL. */
const char *vd_lua_budget_exceeded(lua_State *L);

#endif
