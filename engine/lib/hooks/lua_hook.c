/*
 * lua_hook.c - the sandboxed Lua state behind rules files and Lua hooks.
 *
 * Four parts, as in Suricata's sandbox: an allocator with a byte cap, a
 * budget of instructions and time armed before every entry (lua_budget.c),
 * an allow-list of libraries (lua_sandbox.c), and no way to load code
 * besides the rules file itself. The packet is one full userdata per state
 * (lua_packet.c), created once and pointed at each packet in turn, so a
 * hook call allocates nothing.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <lauxlib.h>

#include "log.h"
#include "lua_budget.h"
#include "lua_hook.h"
#include "lua_packet.h"
#include "lua_sandbox.h"

struct vd_lua {
	lua_State *L;
	size_t limit;
	_Atomic size_t used;
	unsigned instructions, call_ms;      /* per hook call */
	uint64_t load_instructions;
	unsigned load_ms;                    /* per load, and for lua_close */
	struct vd_lua_budget budget;         /* of the entry running now */
	struct vd_lua_print print;
	int result_ref;    /* the table the file returned */
	int pkt_ref;       /* the one packet userdata */
	struct vd_lua_packet *pkt;
	_Atomic uint64_t errors;
	time_t last_log;   /* error logging: at most one line a second */
	uint64_t suppressed;
};

/* --- allocator with a cap --- */

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct vd_lua *s = ud;
	size_t used = atomic_load_explicit(&s->used, memory_order_relaxed);
	size_t old = ptr ? osize : 0; /* without ptr, osize is a type tag */
	void *p;

	if (nsize == 0) {
		free(ptr);
		atomic_store_explicit(&s->used, used - old, memory_order_relaxed);
		return NULL;
	}
	/* Only growth can be refused: Lua counts on shrinking to succeed. */
	if (nsize > old && used - old + nsize > s->limit)
		return NULL;
	p = realloc(ptr, nsize);
	if (!p)
		return NULL;
	atomic_store_explicit(&s->used, used - old + nsize, memory_order_relaxed);
	return p;
}

/* Runs in protected mode: opening libraries allocates and may fail. */
static int sandbox_setup(lua_State *L)
{
	struct vd_lua *s = lua_touserdata(L, 1);

	vd_lua_sandbox_build(L, &s->print);
	lua_pushinteger(L, VD_VERDICT_ACCEPT);
	lua_setglobal(L, "ACCEPT");
	lua_pushinteger(L, VD_VERDICT_DROP);
	lua_setglobal(L, "DROP");
	lua_pushinteger(L, VD_VERDICT_REPEAT);
	lua_setglobal(L, "REPEAT");
	lua_pushinteger(L, VD_VERDICT_QUEUE);
	lua_setglobal(L, "QUEUE");

	s->pkt = vd_lua_packet_new(L);
	s->pkt_ref = luaL_ref(L, LUA_REGISTRYINDEX);

	return 0;
}

struct vd_lua *vd_lua_open(const struct vd_lua_limits *lim, char *err, size_t errlen)
{
	struct vd_lua *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "lua: out of memory");
		return NULL;
	}
	s->limit = lim && lim->memory_bytes ? lim->memory_bytes : VD_LUA_DEFAULT_MEMORY;
	s->instructions = lim && lim->instructions ? lim->instructions : VD_LUA_DEFAULT_INSTRUCTIONS;
	s->call_ms = lim && lim->call_ms ? lim->call_ms : VD_LUA_DEFAULT_CALL_MS;
	s->load_instructions = lim && lim->load_instructions ? lim->load_instructions
							     : VD_LUA_DEFAULT_LOAD_INSTRUCTIONS;
	s->load_ms = lim && lim->load_ms ? lim->load_ms : VD_LUA_DEFAULT_LOAD_MS;
	s->result_ref = LUA_NOREF;
	s->L = lua_newstate(capped_alloc, s);
	if (!s->L) {
		snprintf(err, errlen, "lua: cannot create a state within the memory cap of %zu bytes",
			 s->limit);
		free(s);
		return NULL;
	}
	vd_lua_budget_attach(s->L, &s->budget);
	s->budget.cancel = lim ? lim->cancel : NULL;
	lua_pushcfunction(s->L, sandbox_setup);
	lua_pushlightuserdata(s->L, s);
	if (lua_pcall(s->L, 1, 0, 0) != LUA_OK) {
		snprintf(err, errlen, "lua: cannot set up the sandbox: %s",
			 lua_tostring(s->L, -1) ? lua_tostring(s->L, -1) : "not enough memory");
		vd_lua_close(s);
		return NULL;
	}
	return s;
}

static const char *error_text(lua_State *L, int status, const struct vd_lua *s, char *buf,
			      size_t size)
{
	const char *msg = lua_tostring(L, -1);

	if (status == LUA_ERRMEM)
		snprintf(buf, size, "memory cap of %zu bytes reached", s->limit);
	else if (msg)
		snprintf(buf, size, "%s", msg);
	else
		snprintf(buf, size, "error object is a %s value", luaL_typename(L, -1));
	return buf;
}

int vd_lua_load_file(struct vd_lua *s, const char *path, char *err, size_t errlen)
{
	lua_State *L = s->L;
	int top = lua_gettop(L);
	int status;
	char why[300];

	/* Mode "t": a precompiled chunk could break the VM's invariants. */
	status = luaL_loadfilex(L, path, "t");
	if (status != LUA_OK) {
		/* Syntax errors start with "path:line:" and "cannot open" names the
		 * file; the bytecode refusal does not. */
		error_text(L, status, s, why, sizeof(why));
		if (strstr(why, path))
			snprintf(err, errlen, "%s", why);
		else
			snprintf(err, errlen, "%s: %s", path, why);
		lua_settop(L, top);
		return -1;
	}
	/* Stays armed after the run: the loader's reads of the returned table
	 * (metamethods included) spend what the run left. */
	vd_lua_budget_arm(L, s->load_instructions, s->load_ms);
	status = lua_pcall(L, 0, 1, 0);
	if (status != LUA_OK) {
		snprintf(err, errlen, "%s: %s", path, error_text(L, status, s, why, sizeof(why)));
		/* Lua's own messages already start with "path:line:". */
		if (strncmp(why, path, strlen(path)) == 0)
			snprintf(err, errlen, "%s", why);
		lua_settop(L, top);
		return -1;
	}
	if (!lua_istable(L, -1)) {
		snprintf(err, errlen, "%s: must return a table (it returned a %s)", path,
			 luaL_typename(L, -1));
		lua_settop(L, top);
		return -1;
	}
	luaL_unref(L, LUA_REGISTRYINDEX, s->result_ref);
	s->result_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	if (s->result_ref == LUA_REFNIL || s->result_ref == LUA_NOREF) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	lua_settop(L, top);
	return 0;
}

lua_State *vd_lua_state(struct vd_lua *s)
{
	return s->L;
}

void vd_lua_push_result(struct vd_lua *s)
{
	if (s->result_ref >= 0)
		lua_rawgeti(s->L, LUA_REGISTRYINDEX, s->result_ref);
	else
		lua_pushnil(s->L);
}

int vd_lua_ref_function(struct vd_lua *s)
{
	int ref;

	if (!lua_isfunction(s->L, -1)) {
		lua_pop(s->L, 1);
		return -1;
	}
	/* luaL_ref may need to grow the registry: keep it under protection. */
	lua_checkstack(s->L, 1);
	ref = luaL_ref(s->L, LUA_REGISTRYINDEX);
	return ref >= 0 ? ref : -1;
}

/* --- the hot path --- */

/*
 * What a hook returns: a verdict, then optionally
 *   - a number: the queue number for "queue", the whole mark otherwise;
 *   - a mark table { value = V, mask = M } (not for "queue");
 *   - an options table { queue = N, bypass = B, mark = M } (queue and bypass
 *     for "queue" only), M being a number or a mark table.
 * Tables are walked with lua_next and their keys compared in place: no
 * metamethod runs and nothing is allocated, so no protected call is needed.
 * Each reader fills why (on the error path only) and returns false.
 */

struct returned {
	bool queue, bypass, mark, value, mask; /* keys seen */
	lua_Integer queue_num;
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
		    : key_is(s, n, "queue") ? VD_VERDICT_QUEUE : -1;
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
		*v = (struct vd_verdict){ .kind = (uint8_t)k };
		return true;
	default:
		if (lua_type(L, idx) == LUA_TSTRING)
			snprintf(why, size, "returned \"%.40s\", not a verdict (\"accept\", \"drop\", "
				 "\"repeat\", \"queue\")", lua_tostring(L, idx));
		else
			snprintf(why, size, "returned %s, not a verdict (\"accept\", \"drop\", \"repeat\", "
				 "\"queue\")", luaL_typename(L, idx));
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

static bool bad_mark(char *why, size_t size)
{
	snprintf(why, size, "mark is not a 32-bit number or { value = V, mask = M }");
	return false;
}

/* A mark table's keys: value (required) and mask (default: every bit). */
static bool mark_table_from(lua_State *L, int idx, struct returned *r, char *why, size_t size)
{
	bool value = false, ok;
	size_t n;
	const char *k;

	idx = lua_absindex(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		if (lua_type(L, -2) != LUA_TSTRING) {
			snprintf(why, size, "mark keys must be names, not %s", luaL_typename(L, -2));
			lua_pop(L, 2);
			return false;
		}
		k = lua_tolstring(L, -2, &n);
		if (key_is(k, n, "value")) {
			ok = value = u32_from(L, -1, &r->mark_value);
		} else if (key_is(k, n, "mask")) {
			ok = u32_from(L, -1, &r->mark_mask);
		} else {
			snprintf(why, size, "unknown mark key \"%.*s\" (value, mask)", (int)(n < 40 ? n : 40), k);
			lua_pop(L, 2);
			return false;
		}
		lua_pop(L, ok ? 1 : 2);
		if (!ok)
			return bad_mark(why, size);
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
	/* The older form: the table is the mark itself. */
	if (key_is(k, n, "value")) {
		r->value = true;
		return u32_from(L, -1, &r->mark_value) || bad_mark(why, size);
	}
	if (key_is(k, n, "mask")) {
		r->mask = true;
		return u32_from(L, -1, &r->mark_mask) || bad_mark(why, size);
	}
	snprintf(why, size, "unknown option \"%.*s\" (queue, bypass, mark)", (int)(n < 40 ? n : 40), k);
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
	if ((r->value || r->mask) && (r->queue || r->bypass || r->mark)) {
		snprintf(why, size, "table mixes a mark's value/mask with options (queue, bypass, mark)");
		return false;
	}
	if (r->mask && !r->value)
		return bad_mark(why, size);
	r->mark = r->mark || r->value;
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
	if (!queue && (r.queue || r.bypass)) {
		snprintf(why, size, "option \"%s\" is for the \"queue\" verdict only",
			 r.queue ? "queue" : "bypass");
		return false;
	}
	if (queue)
		*v = vd_verdict_queue((uint16_t)r.queue_num, r.bypass_on);
	if (r.mark)
		*v = vd_verdict_with_mark(*v, r.mark_value, r.mark_mask);
	return true;
}

static void report_error(struct vd_lua *s, const char *rule_name, const char *msg)
{
	time_t now = time(NULL);

	atomic_fetch_add_explicit(&s->errors, 1, memory_order_relaxed);
	if (now == s->last_log) {
		s->suppressed++;
		return;
	}
	if (s->suppressed)
		vd_log(VD_LOG_WARN, "rule \"%s\": lua hook failed: %s (%llu more errors not shown)",
		       rule_name, msg, (unsigned long long)s->suppressed);
	else
		vd_log(VD_LOG_WARN, "rule \"%s\": lua hook failed: %s", rule_name, msg);
	s->last_log = now;
	s->suppressed = 0;
}

/* Whether the error a failed hook raised (at the top of the stack) is the
 * refusal lua_rewrite.c raised last, rather than an error after the script
 * caught it. Error path only. */
static bool raised_refusal(lua_State *L, const struct vd_lua *s)
{
	bool same;

	lua_rawgeti(L, LUA_REGISTRYINDEX, s->pkt_ref);
	lua_getiuservalue(L, -1, VD_LUA_PACKET_REFUSAL);
	same = lua_rawequal(L, -1, -3);
	lua_pop(L, 2);
	return same;
}

/* Hot path: two registry reads, one coarse clock read (vDSO) and one
 * lua_sethook to arm the budget, one protected call, no allocation by the
 * binding; time(NULL) only on the error path. The edit costs a store and a
 * compare unless the script writes (lua_rewrite.c). */
struct vd_verdict vd_lua_call(struct vd_lua *s, int ref, const char *rule_name,
			      const struct vd_packet *pkt, struct vd_packet_edit *edit,
			      struct vd_verdict on_error, bool *failed)
{
	lua_State *L = s->L;
	int top = lua_gettop(L), status;
	struct vd_verdict v;
	bool refusal = false;
	char why[300];

	lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
	if (!lua_isfunction(L, -1)) {
		lua_settop(L, top);
		report_error(s, rule_name, "hook is not a function");
		goto fail;
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, s->pkt_ref);
	s->pkt->pkt = pkt;
	s->pkt->edit = edit;
	vd_lua_budget_arm(L, s->instructions, s->call_ms);
	status = lua_pcall(L, 1, 2, 0);
	s->pkt->pkt = NULL;
	if (status != LUA_OK) {
		report_error(s, rule_name, error_text(L, status, s, why, sizeof(why)));
		refusal = edit && edit->reason != VD_EDIT_OK && raised_refusal(L, s);
		lua_settop(L, top);
		goto fail;
	}
	/* Room for walking the returned tables; fails only without memory. */
	if (!lua_checkstack(L, 6)) {
		snprintf(why, sizeof(why), "memory cap of %zu bytes reached", s->limit);
		lua_settop(L, top);
		report_error(s, rule_name, why);
		goto fail;
	}
	if (!kind_from(L, -2, &v, why, sizeof(why)) || !rest_from(L, -1, &v, why, sizeof(why))) {
		lua_settop(L, top);
		report_error(s, rule_name, why);
		goto fail;
	}
	lua_settop(L, top);
	if (v.kind == VD_VERDICT_DROP)
		vd_packet_edit_discard(edit);
	if (failed)
		*failed = false;
	return v;
fail:
	/* Only a refusal that ended the hook makes this a rewrite error. */
	if (edit && !refusal)
		edit->reason = VD_EDIT_OK;
	vd_packet_edit_discard(edit);
	if (failed)
		*failed = true;
	return on_error;
}

uint64_t vd_lua_errors(const struct vd_lua *s)
{
	return atomic_load_explicit(&s->errors, memory_order_relaxed);
}

size_t vd_lua_memory(const struct vd_lua *s)
{
	return atomic_load_explicit(&s->used, memory_order_relaxed);
}

void vd_lua_close(struct vd_lua *s)
{
	if (!s)
		return;
	if (s->L) {
		/* No finalizer can be set (lua_sandbox.h), but what lua_close
		 * runs still gets a budget. */
		vd_lua_budget_arm(s->L, s->load_instructions, s->load_ms);
		lua_close(s->L);
	}
	vd_lua_sandbox_print_flush(&s->print);
	free(s);
}
