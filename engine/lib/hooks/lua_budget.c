/*
 * lua_budget.c - the count hook that ends an entry into Lua when it runs out
 * of instructions or time, or is cancelled (lua_budget.h).
 *
 * The hook runs every `period` instructions. It reads the coarse monotonic
 * clock (vDSO, no syscall) at every tick, so time holds even when single
 * instructions are slow: a tick that took a millisecond or more shrinks the
 * period (down to one instruction), fast ticks grow it back to PERIOD_MAX.
 * Once over budget it raises at every instruction, so that neither pcall
 * nor a handler can keep the script running.
 */
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include <lauxlib.h>

#include "lua_budget.h"

enum {
	PERIOD_START = 128,     /* a short hook call never ticks */
	PERIOD_MAX = 1000,
	SLOW_TICK_NS = 1000000, /* a tick this long: instructions are slow */
};

static struct vd_lua_budget *budget_of(lua_State *L)
{
	return *(struct vd_lua_budget **)lua_getextraspace(L);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool budget_over(struct vd_lua_budget *b, uint64_t now)
{
	if (b->why[0])
		return true;
	if (b->cancel && atomic_load_explicit(b->cancel, memory_order_relaxed))
		snprintf(b->why, sizeof(b->why), "cancelled");
	else if (b->spent >= b->limit)
		snprintf(b->why, sizeof(b->why), "instruction budget exhausted");
	else if (now >= b->deadline_ns)
		snprintf(b->why, sizeof(b->why), "time budget of %u ms exhausted", b->ms);
	return b->why[0] != '\0';
}

static void budget_hook(lua_State *L, lua_Debug *ar);

/* From now on fail at every instruction: the first instruction after a
 * pcall or in a handler raises again. vd_lua_budget_arm restores the count. */
static void budget_fail_always(lua_State *L, struct vd_lua_budget *b)
{
	b->period = 1;
	lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
	struct vd_lua_budget *b = budget_of(L);
	uint64_t now = now_ns();
	int period = b->period;

	(void)ar;
	b->spent += (uint64_t)b->period;
	if (budget_over(b, now)) {
		budget_fail_always(L, b);
		luaL_error(L, "%s", b->why);
	}
	if (now - b->last_tick_ns >= SLOW_TICK_NS)
		period = period / 8 ? period / 8 : 1;
	else if (period < PERIOD_MAX)
		period = period * 2 < PERIOD_MAX ? period * 2 : PERIOD_MAX;
	if ((uint64_t)period > b->limit - b->spent)
		period = (int)(b->limit - b->spent);
	b->last_tick_ns = now;
	/* Lua restarts the countdown itself; lua_sethook walks the call stack. */
	if (period != b->period) {
		b->period = period;
		lua_sethook(L, budget_hook, LUA_MASKCOUNT, period);
	}
}

void vd_lua_budget_attach(lua_State *L, struct vd_lua_budget *b)
{
	*b = (struct vd_lua_budget){ .limit = UINT64_MAX, .deadline_ns = UINT64_MAX };
	*(struct vd_lua_budget **)lua_getextraspace(L) = b;
}

void vd_lua_budget_arm(lua_State *L, uint64_t instructions, unsigned ms)
{
	struct vd_lua_budget *b = budget_of(L);
	uint64_t now = now_ns();

	b->limit = instructions ? instructions : 1;
	b->spent = 0;
	b->ms = ms;
	b->deadline_ns = now + (uint64_t)ms * 1000000u;
	b->last_tick_ns = now;
	b->why[0] = '\0';
	b->period = b->limit < PERIOD_START ? (int)b->limit : PERIOD_START;
	lua_sethook(L, budget_hook, LUA_MASKCOUNT, b->period);
}

void vd_lua_budget_charge(lua_State *L, uint64_t n, const char *what)
{
	struct vd_lua_budget *b = budget_of(L);

	b->spent = n > UINT64_MAX - b->spent ? UINT64_MAX : b->spent + n;
	if (budget_over(b, now_ns())) {
		budget_fail_always(L, b);
		luaL_error(L, "%s (in %s)", b->why, what);
	}
}

const char *vd_lua_budget_exceeded(lua_State *L)
{
	struct vd_lua_budget *b = budget_of(L);

	return b->why[0] ? b->why : NULL;
}
