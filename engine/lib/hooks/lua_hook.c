/*
 * lua_hook.c - the sandboxed Lua state behind rules files and Lua hooks.
 *
 * Four parts, as in Suricata's sandbox: an allocator with a byte cap, an
 * instruction budget reset before every call (a count hook that raises an
 * error), an allow-list of libraries, and no way to load code besides the
 * rules file itself. The packet is one full userdata per state (lua_packet.c),
 * created once and pointed at each packet in turn, so a hook call allocates
 * nothing.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <lauxlib.h>
#include <lualib.h>

#include "log.h"
#include "lua_hook.h"
#include "lua_packet.h"

struct vd_lua {
	lua_State *L;
	size_t limit;
	_Atomic size_t used;
	unsigned instructions;
	int result_ref;    /* the table the file returned */
	int pkt_ref;       /* the one packet userdata */
	int keys_ref;      /* "value", "mask": for reading a mark table without allocating */
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

/* --- instruction budget --- */

static void budget_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	/* From now on fail at every instruction, so that a script catching the
	 * error with pcall cannot keep running: the first instruction after its
	 * pcall raises again, outside it. budget_arm restores the count. */
	lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
	luaL_error(L, "instruction budget exhausted");
}

static void budget_arm(struct vd_lua *s)
{
	/* lua_sethook resets the countdown, so every call starts afresh. */
	lua_sethook(s->L, budget_hook, LUA_MASKCOUNT, (int)s->instructions);
}

/* --- sandbox --- */

static int lua_print(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_Buffer b;

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

/* Runs in protected mode: opening libraries allocates and may fail. */
static int sandbox_setup(lua_State *L)
{
	static const luaL_Reg libs[] = {
		{ LUA_GNAME, luaopen_base },     { LUA_STRLIBNAME, luaopen_string },
		{ LUA_TABLIBNAME, luaopen_table }, { LUA_MATHLIBNAME, luaopen_math },
		{ LUA_UTF8LIBNAME, luaopen_utf8 },
	};
	static const char *const banned[] = { "dofile", "loadfile", "load", "require",
					      "collectgarbage", "warn" };
	struct vd_lua *s = lua_touserdata(L, 1);

	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		luaL_requiref(L, libs[i].name, libs[i].func, 1);
		lua_pop(L, 1);
	}
	for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++) {
		lua_pushnil(L);
		lua_setglobal(L, banned[i]);
	}
	lua_getglobal(L, LUA_STRLIBNAME);
	lua_pushnil(L);
	lua_setfield(L, -2, "dump"); /* would hand out bytecode */
	lua_pop(L, 1);
	/* package.loaded still lists the libraries; nothing can reach it. */
	lua_pushcfunction(L, lua_print);
	lua_setglobal(L, "print");
	lua_pushinteger(L, VD_VERDICT_ACCEPT);
	lua_setglobal(L, "ACCEPT");
	lua_pushinteger(L, VD_VERDICT_DROP);
	lua_setglobal(L, "DROP");
	lua_pushinteger(L, VD_VERDICT_REPEAT);
	lua_setglobal(L, "REPEAT");

	s->pkt = vd_lua_packet_new(L);
	s->pkt_ref = luaL_ref(L, LUA_REGISTRYINDEX);

	lua_createtable(L, 2, 0);
	lua_pushliteral(L, "value");
	lua_rawseti(L, -2, 1);
	lua_pushliteral(L, "mask");
	lua_rawseti(L, -2, 2);
	s->keys_ref = luaL_ref(L, LUA_REGISTRYINDEX);
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
	if (s->instructions > (unsigned)INT32_MAX)
		s->instructions = INT32_MAX;
	s->result_ref = LUA_NOREF;
	s->L = lua_newstate(capped_alloc, s);
	if (!s->L) {
		snprintf(err, errlen, "lua: cannot create a state within the memory cap of %zu bytes",
			 s->limit);
		free(s);
		return NULL;
	}
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
		snprintf(err, errlen, "%s", error_text(L, status, s, why, sizeof(why)));
		lua_settop(L, top);
		return -1;
	}
	budget_arm(s);
	status = lua_pcall(L, 0, 1, 0);
	lua_sethook(L, NULL, 0, 0);
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

static bool verdict_from(lua_State *L, int idx, struct vd_verdict *v)
{
	size_t n;
	const char *s;

	switch (lua_type(L, idx)) {
	case LUA_TSTRING:
		s = lua_tolstring(L, idx, &n);
		if (n == 6 && memcmp(s, "accept", 6) == 0)
			*v = vd_verdict_accept();
		else if (n == 4 && memcmp(s, "drop", 4) == 0)
			*v = vd_verdict_drop();
		else if (n == 6 && memcmp(s, "repeat", 6) == 0)
			*v = vd_verdict_repeat();
		else
			return false;
		return true;
	case LUA_TNUMBER: {
		int isnum;
		lua_Integer k = lua_tointegerx(L, idx, &isnum);

		if (!isnum)
			return false;
		if (k == VD_VERDICT_ACCEPT)
			*v = vd_verdict_accept();
		else if (k == VD_VERDICT_DROP)
			*v = vd_verdict_drop();
		else if (k == VD_VERDICT_REPEAT)
			*v = vd_verdict_repeat();
		else
			return false;
		return true;
	}
	default:
		return false;
	}
}

static bool mark_number(lua_State *L, int idx, uint32_t *out)
{
	int isnum;
	lua_Integer m = lua_tointegerx(L, idx, &isnum);

	if (!isnum || lua_type(L, idx) != LUA_TNUMBER || m < 0 || m > (lua_Integer)UINT32_MAX)
		return false;
	*out = (uint32_t)m;
	return true;
}

/* Reads the optional mark without calling metamethods or allocating, so
 * that it needs no protected call. */
static bool mark_from(struct vd_lua *s, int idx, struct vd_verdict *v)
{
	lua_State *L = s->L;
	uint32_t value, mask = UINT32_MAX;
	bool ok;

	switch (lua_type(L, idx)) {
	case LUA_TNONE:
	case LUA_TNIL:
		return true;
	case LUA_TNUMBER:
		if (!mark_number(L, idx, &value))
			return false;
		break;
	case LUA_TTABLE:
		lua_rawgeti(L, LUA_REGISTRYINDEX, s->keys_ref);
		lua_rawgeti(L, -1, 1);
		lua_rawget(L, idx < 0 ? idx - 2 : idx);
		ok = mark_number(L, -1, &value);
		lua_pop(L, 1);
		lua_rawgeti(L, -1, 2);
		lua_rawget(L, idx < 0 ? idx - 2 : idx);
		if (!lua_isnil(L, -1))
			ok = ok && mark_number(L, -1, &mask);
		lua_pop(L, 2);
		if (!ok)
			return false;
		break;
	default:
		return false;
	}
	*v = vd_verdict_with_mark(*v, value, mask);
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

/* Hot path: two registry reads, one protected call, no allocation by the
 * binding; time(NULL) only on the error path. */
struct vd_verdict vd_lua_call(struct vd_lua *s, int ref, const char *rule_name,
			      const struct vd_packet *pkt, struct vd_verdict on_error, bool *failed)
{
	lua_State *L = s->L;
	int top = lua_gettop(L), status;
	struct vd_verdict v;
	char why[300];

	lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
	if (!lua_isfunction(L, -1)) {
		lua_settop(L, top);
		report_error(s, rule_name, "hook is not a function");
		goto fail;
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, s->pkt_ref);
	s->pkt->pkt = pkt;
	budget_arm(s);
	status = lua_pcall(L, 1, 2, 0);
	s->pkt->pkt = NULL;
	if (status != LUA_OK) {
		report_error(s, rule_name, error_text(L, status, s, why, sizeof(why)));
		lua_settop(L, top);
		goto fail;
	}
	if (!verdict_from(L, -2, &v)) {
		snprintf(why, sizeof(why), "returned %s, not a verdict (\"accept\", \"drop\", \"repeat\")",
			 luaL_typename(L, -2));
		lua_settop(L, top);
		report_error(s, rule_name, why);
		goto fail;
	}
	if (!mark_from(s, -1, &v)) {
		lua_settop(L, top);
		report_error(s, rule_name, "mark is not a 32-bit number or { value = V, mask = M }");
		goto fail;
	}
	lua_settop(L, top);
	if (failed)
		*failed = false;
	return v;
fail:
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
	if (s->L)
		lua_close(s->L);
	free(s);
}
