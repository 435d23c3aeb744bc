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
#include "lua_return.h"
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
	lua_pushinteger(L, VD_VERDICT_REJECT);
	lua_setglobal(L, "REJECT");

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

/* A method read as a field (pkt.payload .. "x", #pkt.payload) or called
 * with a dot (pkt.byte(1)): Lua's message names the field but not the
 * mistake. The hint for msg, or "". Error path only. */
static const char *method_hint(const char *msg, char *buf, size_t size)
{
	static const char *const methods[] = { "payload", "byte", "set_byte", "set_payload" };
	char as_field[40], dot_call[64];

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		snprintf(as_field, sizeof(as_field), "(field '%s')", methods[i]);
		snprintf(dot_call, sizeof(dot_call), "to '%s' (verdictd.packet expected", methods[i]);
		if ((strstr(msg, "attempt to") && strstr(msg, as_field)) || strstr(msg, dot_call)) {
			snprintf(buf, size, " (pkt:%s is a method: call it with a colon, pkt:%s(...))",
				 methods[i], methods[i]);
			return buf;
		}
	}
	return "";
}

static void report_error(struct vd_lua *s, const char *rule_name, const char *msg)
{
	time_t now = time(NULL);
	char hint_buf[96];
	const char *hint;

	atomic_fetch_add_explicit(&s->errors, 1, memory_order_relaxed);
	if (now == s->last_log) {
		s->suppressed++;
		return;
	}
	hint = method_hint(msg, hint_buf, sizeof(hint_buf));
	if (s->suppressed)
		vd_log(VD_LOG_WARN, "rule \"%s\": lua hook failed: %s%s (%llu more errors not shown)",
		       rule_name, msg, hint, (unsigned long long)s->suppressed);
	else
		vd_log(VD_LOG_WARN, "rule \"%s\": lua hook failed: %s%s", rule_name, msg, hint);
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
	if (!vd_lua_return_read(L, &v, why, sizeof(why))) {
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
