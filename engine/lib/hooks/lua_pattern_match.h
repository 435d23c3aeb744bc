/*
 * lua_pattern_match.h - the budgeted matcher's state and entry point,
 * shared by the matcher (lua_pattern_match.c) and the string library
 * functions built on it (lua_pattern.c). Private to hooks/.
 */
#ifndef VD_LUA_PATTERN_MATCH_H
#define VD_LUA_PATTERN_MATCH_H

#include <stddef.h>

#include <lua.h>

enum {
	CAP_UNFINISHED = -1,
	CAP_POSITION = -2,
	MATCH_DEPTH = 200,    /* as Lua's MAXCCALLS: deeper is "pattern too complex" */
	CHARGE_EVERY = 1024,  /* steps between two budget checks */
	MAX_CAPTURES = 32,    /* as the stock library */
};

struct matcher {
	lua_State *L;
	const char *what;     /* "string.find": names the function in budget errors */
	const char *src, *src_end, *pat_end;
	int depth;            /* recursion left */
	int level;            /* captures open or closed */
	unsigned steps;       /* not charged yet */
	struct {
		const char *init;
		ptrdiff_t len;    /* or CAP_UNFINISHED, CAP_POSITION */
	} cap[MAX_CAPTURES];
};

/* Matches pattern p (up to m->pat_end) at s (within m->src..m->src_end):
 * the end of the match, or NULL. Raises Lua errors (malformed pattern,
 * "pattern too complex", budget exhausted). */
const char *vd_pattern_match(struct matcher *m, const char *s, const char *p);

#endif
