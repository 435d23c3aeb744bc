/*
 * lua_return.c - what a Lua hook returns, read into a struct vd_verdict
 * (lua_return.h).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_return.h"
#include "reject_with.h"

/* Tables are walked with lua_next and their keys compared in place: no
 * metamethod runs and nothing is allocated, so no protected call is needed.
 * Each reader fills why (on the error path only) and returns false. */

struct returned {
	bool queue, bypass, mark, value, mask, delay, reject_with; /* keys seen */
	lua_Integer queue_num;
	enum vd_reject_with with;
	uint64_t delay_ns;
	bool bypass_on;
	uint32_t mark_value, mark_mask;
};

static bool key_is(const char *k, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(k, lit, n) == 0;
}

static bool kind_from(lua_State *L, int idx, struct vd_verdict *v, char *why, size_t size)
{
	size_t n;
	const char *s;
	lua_Integer k;
	int isnum;

	if (lua_type(L, idx) == LUA_TSTRING) {
		s = lua_tolstring(L, idx, &n);
		k = key_is(s, n, "accept") ? VD_VERDICT_ACCEPT
		    : key_is(s, n, "drop") ? VD_VERDICT_DROP
		    : key_is(s, n, "repeat") ? VD_VERDICT_REPEAT
		    : key_is(s, n, "queue") ? VD_VERDICT_QUEUE
		    : key_is(s, n, "reject") ? VD_VERDICT_REJECT : -1;
	} else if (lua_type(L, idx) == LUA_TNUMBER) {
		k = lua_tointegerx(L, idx, &isnum);
		if (!isnum) /* 0.5 is no DROP */
			k = -1;
	} else {
		k = -1;
	}
	switch (k) {
	case VD_VERDICT_ACCEPT:
	case VD_VERDICT_DROP:
	case VD_VERDICT_REPEAT:
	case VD_VERDICT_QUEUE:
	case VD_VERDICT_REJECT:
		*v = (struct vd_verdict){ .kind = (uint8_t)k };
		return true;
	default:
		if (lua_type(L, idx) == LUA_TSTRING)
			snprintf(why, size, "returned \"%.40s\", not a verdict (\"accept\", \"drop\", "
				 "\"reject\", \"repeat\", \"queue\")", lua_tostring(L, idx));
		else
			snprintf(why, size, "returned %s, not a verdict (\"accept\", \"drop\", \"reject\", "
				 "\"repeat\", \"queue\")", luaL_typename(L, idx));
		return false;
	}
}

static bool u32_from(lua_State *L, int idx, uint32_t *out)
{
	int isnum;
	lua_Integer m = lua_tointegerx(L, idx, &isnum);

	if (!isnum || lua_type(L, idx) != LUA_TNUMBER || m < 0 || m > (lua_Integer)UINT32_MAX)
		return false;
	*out = (uint32_t)m;
	return true;
}

static bool queue_from(lua_State *L, int idx, lua_Integer *out, char *why, size_t size)
{
	int isnum;
	lua_Integer q = lua_tointegerx(L, idx, &isnum);

	if (!isnum || lua_type(L, idx) != LUA_TNUMBER) {
		snprintf(why, size, "queue number is not a whole number (a %s)", luaL_typename(L, idx));
		return false;
	}
	if (q < 0 || q > 65535) {
		snprintf(why, size, "queue number %lld is out of range 0-65535", (long long)q);
		return false;
	}
	*out = q;
	return true;
}

/* The delay option: seconds, as a Lua number. Rounded to the nearest
 * nanosecond, then up to a whole microsecond by vd_verdict_delay, so that
 * any delay above zero holds the packet. */
static bool delay_from(lua_State *L, int idx, uint64_t *ns, char *why, size_t size)
{
	lua_Number d;

	if (lua_type(L, idx) != LUA_TNUMBER) {
		snprintf(why, size, "option \"delay\" is not a number of seconds (a %s)",
			 luaL_typename(L, idx));
		return false;
	}
	d = lua_tonumber(L, idx);
	if (isnan(d) || d < 0) {
		snprintf(why, size, "option \"delay\" is %g, not a number of seconds from 0", d);
		return false;
	}
	if (d > (lua_Number)VD_VERDICT_MAX_DELAY_US / 1e6) {
		snprintf(why, size, "option \"delay\" of %g s is over the longest delay (%.0f s)", d,
			 (double)VD_VERDICT_MAX_DELAY_US / 1e6);
		return false;
	}
	*ns = (uint64_t)(d * 1e9 + 0.5);
	if (*ns == 0 && d > 0)
		*ns = 1;
	return true;
}

static bool bad_mark(char *why, size_t size)
{
	snprintf(why, size, "mark is not a 32-bit number or { value = V, mask = M }");
	return false;
}

/* Which field of a mark table the key at -2 names: value is { value = V }
 * or [1], mask is { mask = M } or [2]; NULL (why filled) for any other. */
static uint32_t *mark_field(lua_State *L, struct returned *r, char *why, size_t size)
{
	size_t n;
	const char *k;
	int isnum;
	lua_Integer i;

	if (lua_type(L, -2) == LUA_TNUMBER) {
		i = lua_tointegerx(L, -2, &isnum);
		if (isnum && (i == 1 || i == 2))
			return i == 1 ? &r->mark_value : &r->mark_mask;
		snprintf(why, size, "mark table has a value at [%g]: a mark is { value, mask } or "
			 "{ value = V, mask = M }", (double)lua_tonumber(L, -2));
		return NULL;
	}
	if (lua_type(L, -2) != LUA_TSTRING) {
		snprintf(why, size, "mark keys must be names, not %s", luaL_typename(L, -2));
		return NULL;
	}
	k = lua_tolstring(L, -2, &n);
	if (key_is(k, n, "value"))
		return &r->mark_value;
	if (key_is(k, n, "mask"))
		return &r->mark_mask;
	snprintf(why, size, "unknown mark key \"%.*s\" (value, mask)", (int)(n < 40 ? n : 40), k);
	return NULL;
}

/* A mark table: value (required) and mask (default: every bit), by name or
 * by position. */
static bool mark_table_from(lua_State *L, int idx, struct returned *r, char *why, size_t size)
{
	bool value = false;
	uint32_t *field;

	idx = lua_absindex(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		field = mark_field(L, r, why, size);
		if (!field) {
			lua_pop(L, 2);
			return false;
		}
		if (!u32_from(L, -1, field)) {
			lua_pop(L, 2);
			return bad_mark(why, size);
		}
		value = value || field == &r->mark_value;
		lua_pop(L, 1);
	}
	return value || bad_mark(why, size);
}

static bool mark_from(lua_State *L, int idx, struct returned *r, char *why, size_t size)
{
	r->mark = true;
	if (lua_istable(L, idx))
		return mark_table_from(L, idx, r, why, size);
	return u32_from(L, idx, &r->mark_value) || bad_mark(why, size);
}

/* One key of a table returned second (the value at -1, the key at -2). */
static bool option_from(lua_State *L, struct returned *r, char *why, size_t size)
{
	size_t n;
	const char *k;

	if (lua_type(L, -2) != LUA_TSTRING) {
		snprintf(why, size, "option keys must be names, not %s", luaL_typename(L, -2));
		return false;
	}
	k = lua_tolstring(L, -2, &n);
	if (key_is(k, n, "queue")) {
		r->queue = true;
		return queue_from(L, -1, &r->queue_num, why, size);
	}
	if (key_is(k, n, "bypass")) {
		r->bypass = true;
		r->bypass_on = lua_toboolean(L, -1);
		if (!lua_isboolean(L, -1))
			snprintf(why, size, "option \"bypass\" is not true or false");
		return lua_isboolean(L, -1);
	}
	if (key_is(k, n, "mark"))
		return mark_from(L, -1, r, why, size);
	if (key_is(k, n, "reject_with")) {
		const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;

		r->reject_with = true;
		if (!s || !vd_reject_with_parse(s, n, &r->with)) {
			snprintf(why, size, "option \"reject_with\" is not one of " VD_REJECT_WITH_NAMES);
			return false;
		}
		return true;
	}
	if (key_is(k, n, "delay")) {
		r->delay = true;
		return delay_from(L, -1, &r->delay_ns, why, size);
	}
	/* The older form: the table is the mark itself. */
	if (key_is(k, n, "value")) {
		r->value = true;
		return u32_from(L, -1, &r->mark_value) || bad_mark(why, size);
	}
	if (key_is(k, n, "mask")) {
		r->mask = true;
		return u32_from(L, -1, &r->mark_mask) || bad_mark(why, size);
	}
	snprintf(why, size, "unknown option \"%.*s\" (delay, mark, queue, bypass, reject_with)",
		 (int)(n < 40 ? n : 40), k);
	return false;
}

static bool table_from(lua_State *L, int idx, struct returned *r, char *why, size_t size)
{
	idx = lua_absindex(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		if (!option_from(L, r, why, size)) {
			lua_pop(L, 2);
			return false;
		}
		lua_pop(L, 1);
	}
	if ((r->value || r->mask) && (r->queue || r->bypass || r->mark || r->delay || r->reject_with)) {
		snprintf(why, size, "table mixes a mark's value/mask with options (delay, mark, queue, "
			 "bypass, reject_with)");
		return false;
	}
	if (r->mask && !r->value)
		return bad_mark(why, size);
	r->mark = r->mark || r->value;
	return true;
}

/* reject_with and bypass, checked against the verdict: bypass on queue
 * accepts when nobody listens; on accept, drop or reject it decides the
 * connection in the kernel, at once: no delay. Sets them on v but queue's. */
static bool kernel_options(struct vd_verdict *v, const struct returned *r, char *why, size_t size)
{
	bool connection = r->bypass_on && v->kind != VD_VERDICT_QUEUE;

	if (r->reject_with && v->kind != VD_VERDICT_REJECT) {
		snprintf(why, size, "option \"reject_with\" is for the \"reject\" verdict only");
		return false;
	}
	if (connection && v->kind == VD_VERDICT_REPEAT) {
		snprintf(why, size, "option \"bypass\" is not for \"repeat\" (accept, drop or reject "
			 "decide a connection; queue's accepts when nobody listens)");
		return false;
	}
	if (r->delay && (connection || v->kind == VD_VERDICT_REJECT)) {
		snprintf(why, size, "option \"delay\" cannot go with %s: the kernel acts at once",
			 connection ? "bypass" : "\"reject\"");
		return false;
	}
	if (r->reject_with)
		v->queue = (uint16_t)r->with;
	if (connection)
		*v = vd_verdict_connection(*v);
	return true;
}

/* The second value, checked against the verdict it follows. */
static bool rest_from(lua_State *L, int idx, struct vd_verdict *v, char *why, size_t size)
{
	struct returned r = { .mark_mask = UINT32_MAX };
	bool queue = v->kind == VD_VERDICT_QUEUE;

	switch (lua_type(L, idx)) {
	case LUA_TNONE:
	case LUA_TNIL:
		break;
	case LUA_TTABLE:
		if (!table_from(L, idx, &r, why, size))
			return false;
		break;
	default:
		if (queue && !(r.queue = queue_from(L, idx, &r.queue_num, why, size)))
			return false;
		if (!queue && !mark_from(L, idx, &r, why, size))
			return false;
	}
	if (queue && !r.queue) {
		snprintf(why, size, "\"queue\" needs a queue number: return \"queue\", N or "
			 "\"queue\", { queue = N }");
		return false;
	}
	if (!queue && r.queue) {
		snprintf(why, size, "option \"queue\" is for the \"queue\" verdict only");
		return false;
	}
	if (!kernel_options(v, &r, why, size))
		return false;
	if (queue)
		*v = vd_verdict_queue((uint16_t)r.queue_num, r.bypass_on);
	if (r.mark)
		*v = vd_verdict_with_mark(*v, r.mark_value, r.mark_mask);
	if (r.delay)
		*v = vd_verdict_delay(*v, r.delay_ns);
	return true;
}

bool vd_lua_return_read(lua_State *L, struct vd_verdict *v, char *why, size_t size)
{
	return kind_from(L, -2, v, why, size) && rest_from(L, -1, v, why, size);
}

