/*
 * lua_pattern.c - Lua's string.find, match, gmatch and gsub on a budgeted
 * matcher (lua_pattern.h, lua_pattern_match.c): the same results as the
 * stock library, with every step charged to the call's budget.
 */
#define _GNU_SOURCE /* memmem */
#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_budget.h"
#include "lua_pattern.h"
#include "lua_pattern_match.h"

static void matcher_init(struct matcher *m, lua_State *L, const char *what, const char *s,
			 size_t ls, const char *p, size_t lp)
{
	m->L = L;
	m->what = what;
	m->src = s;
	m->src_end = s + ls;
	m->pat_end = p + lp;
	m->steps = 0;
}

static void matcher_restart(struct matcher *m)
{
	m->level = 0;
	m->depth = MATCH_DEPTH;
}

/* Capture i; i == 0 without captures is the whole match s..e. */
static void push_capture(struct matcher *m, int i, const char *s, const char *e)
{
	if (i >= m->level) {
		if (i != 0)
			luaL_error(m->L, "invalid capture index %%%d", i + 1);
		lua_pushlstring(m->L, s, (size_t)(e - s));
	} else if (m->cap[i].len == CAP_UNFINISHED) {
		luaL_error(m->L, "unfinished capture");
	} else if (m->cap[i].len == CAP_POSITION) {
		lua_pushinteger(m->L, (m->cap[i].init - m->src) + 1);
	} else {
		lua_pushlstring(m->L, m->cap[i].init, (size_t)m->cap[i].len);
	}
}

/* All captures, or the whole match when there are none and s is given. */
static int push_captures(struct matcher *m, const char *s, const char *e)
{
	int n = m->level == 0 && s ? 1 : m->level;

	luaL_checkstack(m->L, n, "too many captures");
	for (int i = 0; i < n; i++)
		push_capture(m, i, s, e);
	return n;
}

/* Lua 5.4's reading of a start position: negative counts from the end. */
static size_t start_index(lua_State *L, int arg, size_t len)
{
	lua_Integer pos = luaL_optinteger(L, arg, 1);

	if (pos > 0)
		return (size_t)pos - 1;
	if (pos == 0 || pos < -(lua_Integer)len)
		return 0;
	return len + (size_t)pos;
}

static int no_specials(const char *p, size_t lp)
{
	for (const char *c = "^$*+?.([%-"; *c; c++)
		if (memchr(p, *c, lp))
			return 0;
	return 1;
}

static int find_plain(lua_State *L, const char *s, size_t ls, size_t init, const char *p,
		      size_t lp)
{
	const char *hit = memmem(s + init, ls - init, p, lp);

	vd_lua_budget_charge(L, (ls - init + lp) / 64 + 1, "string.find");
	if (!hit) {
		luaL_pushfail(L);
		return 1;
	}
	lua_pushinteger(L, (hit - s) + 1);
	lua_pushinteger(L, (hit - s) + (lua_Integer)lp);
	return 2;
}

static int find_or_match(lua_State *L, int find)
{
	size_t ls, lp;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	size_t init = start_index(L, 3, ls);
	struct matcher m;
	const char *s1, *e;
	int anchor;

	if (init > ls) {
		luaL_pushfail(L);
		return 1;
	}
	if (find && (lua_toboolean(L, 4) || no_specials(p, lp)))
		return find_plain(L, s, ls, init, p, lp);
	anchor = *p == '^';
	if (anchor) {
		p++;
		lp--;
	}
	matcher_init(&m, L, find ? "string.find" : "string.match", s, ls, p, lp);
	s1 = s + init;
	do {
		matcher_restart(&m);
		if ((e = vd_pattern_match(&m, s1, p))) {
			vd_lua_budget_charge(L, m.steps, m.what);
			if (!find)
				return push_captures(&m, s1, e);
			lua_pushinteger(L, (s1 - s) + 1);
			lua_pushinteger(L, e - s);
			return push_captures(&m, NULL, NULL) + 2;
		}
	} while (s1++ < m.src_end && !anchor);
	vd_lua_budget_charge(L, m.steps, m.what);
	luaL_pushfail(L);
	return 1;
}

static int pattern_find(lua_State *L)
{
	return find_or_match(L, 1);
}

static int pattern_match(lua_State *L)
{
	return find_or_match(L, 0);
}

/* An iterator's position; the subject and pattern are its upvalues 1, 2. */
struct gmatch_state {
	size_t pos;            /* where the next search starts */
	ptrdiff_t last;        /* end of the previous match, or -1 */
};

static int gmatch_next(lua_State *L)
{
	size_t ls, lp;
	const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
	const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
	struct gmatch_state *g = lua_touserdata(L, lua_upvalueindex(3));
	struct matcher m;

	matcher_init(&m, L, "string.gmatch", s, ls, p, lp);
	for (const char *src = s + g->pos; src <= m.src_end; src++) {
		const char *e;

		matcher_restart(&m);
		/* An empty match right where the previous one ended is skipped. */
		if ((e = vd_pattern_match(&m, src, p)) && e - s != g->last) {
			g->pos = (size_t)(e - s);
			g->last = e - s;
			vd_lua_budget_charge(L, m.steps, m.what);
			return push_captures(&m, src, e);
		}
	}
	g->pos = ls + 1;
	vd_lua_budget_charge(L, m.steps, m.what);
	return 0;
}

static int pattern_gmatch(lua_State *L)
{
	size_t ls;
	struct gmatch_state *g;

	luaL_checklstring(L, 1, &ls);
	luaL_checkstring(L, 2);
	lua_settop(L, 3);
	g = lua_newuserdatauv(L, sizeof(*g), 0);
	g->pos = start_index(L, 3, ls);
	if (g->pos > ls)
		g->pos = ls + 1; /* past the end: no match */
	g->last = -1;
	lua_remove(L, 3);
	lua_pushcclosure(L, gmatch_next, 3);
	return 1;
}

/* The replacement string (argument 3) with %0-%9 and %% expanded. */
static void add_string(struct matcher *m, luaL_Buffer *b, const char *s, const char *e)
{
	lua_State *L = m->L;
	size_t l;
	const char *news = lua_tolstring(L, 3, &l), *pc;

	while ((pc = memchr(news, '%', l))) {
		luaL_addlstring(b, news, (size_t)(pc - news));
		pc++;
		if (*pc == '%') {
			luaL_addchar(b, '%');
		} else if (*pc == '0') {
			luaL_addlstring(b, s, (size_t)(e - s));
		} else if (isdigit((unsigned char)*pc)) {
			push_capture(m, *pc - '1', s, e);
			luaL_tolstring(L, -1, NULL);
			lua_remove(L, -2);
			luaL_addvalue(b);
		} else {
			luaL_error(L, "invalid use of '%%' in replacement string");
		}
		l -= (size_t)(pc + 1 - news);
		news = pc + 1;
	}
	luaL_addlstring(b, news, l);
}

/* Appends the replacement of match s..e; returns whether it changed it. */
static int add_value(struct matcher *m, luaL_Buffer *b, const char *s, const char *e, int type)
{
	lua_State *L = m->L;

	if (type == LUA_TFUNCTION) {
		int n;

		lua_pushvalue(L, 3);
		n = push_captures(m, s, e);
		lua_call(L, n, 1);
	} else if (type == LUA_TTABLE) {
		push_capture(m, 0, s, e);
		lua_gettable(L, 3);
	} else {
		add_string(m, b, s, e);
		return 1;
	}
	if (!lua_toboolean(L, -1)) { /* nil or false: keep the original */
		lua_pop(L, 1);
		luaL_addlstring(b, s, (size_t)(e - s));
		return 0;
	}
	if (!lua_isstring(L, -1))
		return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
	luaL_addvalue(b);
	return 1;
}

static int pattern_gsub(lua_State *L)
{
	size_t ls, lp;
	const char *src = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	const char *last = NULL, *e;
	int type = lua_type(L, 3), anchor = *p == '^', changed = 0;
	lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1), n = 0;
	struct matcher m;
	luaL_Buffer b;

	luaL_argexpected(L, type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TFUNCTION ||
			 type == LUA_TTABLE, 3, "string/function/table");
	luaL_buffinit(L, &b);
	if (anchor) {
		p++;
		lp--;
	}
	matcher_init(&m, L, "string.gsub", src, ls, p, lp);
	while (n < max) {
		matcher_restart(&m);
		if ((e = vd_pattern_match(&m, src, p)) && e != last) {
			n++;
			changed |= add_value(&m, &b, src, e, type);
			src = last = e;
		} else if (src < m.src_end) {
			luaL_addchar(&b, *src++);
		} else {
			break;
		}
		if (anchor)
			break;
	}
	vd_lua_budget_charge(L, m.steps, m.what);
	if (!changed) {
		lua_pushvalue(L, 1);
	} else {
		luaL_addlstring(&b, src, (size_t)(m.src_end - src));
		luaL_pushresult(&b);
	}
	lua_pushinteger(L, n);
	return 2;
}

void vd_lua_pattern_install(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{ "find", pattern_find },     { "match", pattern_match },
		{ "gmatch", pattern_gmatch }, { "gsub", pattern_gsub },
		{ NULL, NULL },
	};

	luaL_setfuncs(L, fns, 0);
}
