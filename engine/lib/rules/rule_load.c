/* rule_load.c - a rules file's Lua table -> struct vd_rule_file, with errors
 * that name the file, the rule and the key. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include <verdict/packet.h>
#include <verdict/rules.h>

#include "rule_kernel.h"
#include "rule_load.h"
#include "rule_rewrite.h"
#include "rule_shape.h"
#include "rule_values.h"

/* Flags for keys whose meaning depends on others, checked after the walk. */
struct seen {
	bool verdict, mark, queue, bypass, lua, plugin, symbol, args, icmp_code, reject_with;
	uint64_t queue_num;
	bool bypass_on;            /* bypass's value (bypass: given at all) */
	uint16_t with;             /* reject_with's enum vd_reject_with */
	uint32_t mark_value, mark_mask;
};

static int read_match_key(struct loader *ld, struct vd_rule *r, const char *k)
{
	static const struct { const char *key; enum vd_rule_dim dim; item_fn fn; } dims[] = {
		{ "proto", VD_DIM_PROTO, vd_rule_proto_item }, { "src", VD_DIM_SRC, vd_rule_address_item },
		{ "dst", VD_DIM_DST, vd_rule_address_item }, { "sport", VD_DIM_SPORT, vd_rule_port_item },
		{ "dport", VD_DIM_DPORT, vd_rule_port_item }, { "iif", VD_DIM_IIF, vd_rule_iface_item },
		{ "indev", VD_DIM_IIF, vd_rule_iface_item }, { "oif", VD_DIM_OIF, vd_rule_iface_item },
		{ "outdev", VD_DIM_OIF, vd_rule_iface_item },
		/* Not "queue": that key names the target of verdict "queue", as
		 * "mark" is set and "match_mark" matched. Queue numbers share the
		 * ports' 16 bits, numbers, ranges and lists. */
		{ "match_queue", VD_DIM_QUEUE, vd_rule_port_item },
	};
	uint64_t lo = 0, hi = 0;

	for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++)
		if (strcmp(k, dims[i].key) == 0) {
			if (r->dim[dims[i].dim].constrained)
				return vd_rule_fail(ld, "given twice (%s is an alias)", k);
			return vd_rule_each_item(ld, dims[i].fn, &r->dim[dims[i].dim]);
		}
	if (strcmp(k, "match_mark") == 0) {
		r->checks |= VD_CHECK_MARK;
		return vd_rule_read_masked(ld, &r->mark_value, &r->mark_mask);
	}
	if (strcmp(k, "uid") == 0 || strcmp(k, "gid") == 0 || strcmp(k, "len") == 0) {
		if (vd_rule_read_range(ld, UINT32_MAX, &lo, &hi) < 0)
			return -1;
		if (k[0] == 'u') {
			r->checks |= VD_CHECK_UID, r->uid_lo = (uint32_t)lo, r->uid_hi = (uint32_t)hi;
		} else if (k[0] == 'g') {
			r->checks |= VD_CHECK_GID, r->gid_lo = (uint32_t)lo, r->gid_hi = (uint32_t)hi;
		} else {
			r->checks |= VD_CHECK_LEN, r->len_lo = (uint32_t)lo, r->len_hi = (uint32_t)hi;
		}
		return 0;
	}
	if (strcmp(k, "tcp_flags") == 0) {
		r->checks |= VD_CHECK_TCP_FLAGS;
		return vd_rule_read_tcp_flags(ld, &r->tcp_mask, &r->tcp_value);
	}
	if (strcmp(k, "ct_state") == 0) {
		r->checks |= VD_CHECK_CT_STATE;
		return vd_rule_each_item(ld, vd_rule_ct_item, &r->ct_states);
	}
	if (strcmp(k, "icmp_type") == 0 || strcmp(k, "icmp_code") == 0) {
		if (vd_rule_read_uint(ld, 0, 255, &lo) < 0)
			return -1;
		if (k[5] == 't') {
			r->checks |= VD_CHECK_ICMP_TYPE, r->icmp_type = (uint8_t)lo;
		} else {
			r->checks |= VD_CHECK_ICMP_CODE, r->icmp_code = (uint8_t)lo;
		}
		return 0;
	}
	return 1; /* not a match key */
}

static int read_action_key(struct loader *ld, struct vd_rule *r, const char *k, struct seen *s)
{
	if (strcmp(k, "verdict") == 0) {
		/* A logs entry's verdict says write or not: a queue or a repeat
		 * would mean nothing there. */
		s->verdict = true;
		return vd_rule_read_verdict_name(ld, &r->verdict, strcmp(ld->list, "logs") == 0
						 ? VD_RULE_ACCEPT_DROP : VD_RULE_ANY_VERDICT);
	}
	if (strcmp(k, "mark") == 0) {
		s->mark = true; /* kept aside: "verdict" may come later in the table */
		return vd_rule_read_masked(ld, &s->mark_value, &s->mark_mask);
	}
	if (strcmp(k, "queue") == 0) {
		s->queue = true;
		return vd_rule_read_uint(ld, 0, 65535, &s->queue_num);
	}
	if (strcmp(k, "bypass") == 0) {
		if (!lua_isboolean(ld->L, -1))
			return vd_rule_fail(ld, "expected true or false");
		s->bypass = true;
		s->bypass_on = lua_toboolean(ld->L, -1);
		return 0;
	}
	if (strcmp(k, "reject_with") == 0) {
		s->reject_with = true;
		return vd_rule_kernel_read_reject_with(ld, &s->with);
	}
	if (strcmp(k, "lua") == 0) {
		if (!lua_isfunction(ld->L, -1))
			return vd_rule_fail(ld, "expected a function(pkt), got %s", luaL_typename(ld->L, -1));
		s->lua = true;
		return 0;
	}
	if (strcmp(k, "set") == 0) {
		/* A log packet is a copy the kernel already sent on. */
		if (strcmp(ld->list, "logs") == 0)
			return vd_rule_fail(ld, "logged packets cannot be rewritten");
		return vd_rule_rewrite_read(ld, &r->set);
	}
	if (strcmp(k, "on_error") == 0) {
		r->on_error_set = true;
		return vd_rule_read_verdict_name(ld, &r->on_error, VD_RULE_ACCEPT_DROP);
	}
	if (strcmp(k, "plugin") == 0)
		return s->plugin = true, vd_rule_read_string(ld, &r->plugin_path);
	if (strcmp(k, "symbol") == 0)
		return s->symbol = true, vd_rule_read_string(ld, &r->plugin_symbol);
	if (strcmp(k, "args") == 0)
		return s->args = true, vd_rule_read_string(ld, &r->plugin_args);
	if (strcmp(k, "log") == 0) {
		if (!lua_isboolean(ld->L, -1))
			return vd_rule_fail(ld, "expected true or false");
		r->log = lua_toboolean(ld->L, -1);
		return 0;
	}
	return 1;
}

/* The keys that only make sense together, once all were read. */
static int check_action(struct loader *ld, struct vd_rule *r, const struct seen *s)
{
	int actions = s->verdict + s->lua + s->plugin;

	ld->key = NULL;
	if (actions == 0)
		return vd_rule_fail(ld, "needs an action: verdict, lua or plugin");
	if (actions > 1)
		return vd_rule_fail(ld, "has more than one action (verdict, lua, plugin): pick one");
	if (s->mark && !s->verdict)
		return vd_rule_fail(ld, "key \"mark\" needs a verdict (a hook returns its own mark)");
	if (s->queue != (s->verdict && r->verdict.kind == VD_VERDICT_QUEUE))
		return vd_rule_fail(ld, "verdict \"queue\" and key \"queue\" (the queue number) go together");
	if (s->reject_with && !(s->verdict && r->verdict.kind == VD_VERDICT_REJECT))
		return vd_rule_fail(ld, "key \"reject_with\" needs verdict \"reject\"");
	if (s->plugin != s->symbol)
		return vd_rule_fail(ld, "keys \"plugin\" and \"symbol\" go together");
	if (s->args && !s->plugin)
		return vd_rule_fail(ld, "key \"args\" needs a plugin");
	if (r->on_error_set && s->verdict && !r->set.fields)
		return vd_rule_fail(ld, "key \"on_error\" is for lua and plugin hooks and rules with set");
	if ((r->checks & VD_CHECK_ICMP_CODE) && !(r->checks & VD_CHECK_ICMP_TYPE))
		return vd_rule_fail(ld, "key \"icmp_code\" needs icmp_type");
	if (s->queue)
		r->verdict = vd_verdict_queue((uint16_t)s->queue_num, s->bypass_on);
	if (s->reject_with)
		r->verdict.queue = s->with;
	if (s->mark)
		r->verdict = vd_verdict_with_mark(r->verdict, s->mark_value, s->mark_mask);
	r->action = s->lua ? VD_ACTION_LUA : s->plugin ? VD_ACTION_PLUGIN : VD_ACTION_VERDICT;
	/* bypass on queue: accept when nobody listens; on any other verdict:
	 * decide the connection in the kernel. */
	if (vd_rule_kernel_check(ld, r, s->bypass && !s->queue && s->bypass_on) < 0)
		return -1;
	/* A refused rewrite of a verdict rule: its verdict, the packet sent as
	 * it came (as a mangling target that cannot write lets it through), so
	 * that marking DSCP never breaks a connection; on_error may say drop. */
	if (s->verdict && r->set.fields && !r->on_error_set)
		r->on_error = r->verdict;
	if (vd_rule_shape_check(ld, r) < 0)
		return -1;
	return vd_rule_rewrite_check(ld, r);
}

/* Edit distance, capped: enough to tell "dprt" from "dport". */
static unsigned distance(const char *a, const char *b)
{
	unsigned row[32], n = (unsigned)strlen(b), diag, tmp;

	if (n >= 32 || strlen(a) >= 32)
		return 99;
	for (unsigned j = 0; j <= n; j++)
		row[j] = j;
	for (unsigned i = 1; a[i - 1]; i++) {
		diag = row[0];
		row[0] = i;
		for (unsigned j = 1; j <= n; j++) {
			unsigned best = diag + (a[i - 1] != b[j - 1]);

			tmp = row[j];
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = tmp;
		}
	}
	return row[n];
}

static int unknown_key(struct loader *ld)
{
	static const char *const keys[] = {
		"name", "proto", "src", "dst", "sport", "dport", "iif", "indev", "oif", "outdev",
		"match_mark", "match_queue", "uid", "gid", "len", "tcp_flags", "ct_state", "icmp_type",
		"icmp_code", "verdict", "mark", "queue", "bypass", "lua", "on_error", "plugin",
		"symbol", "args", "log", "set", "delay", "jitter", "distribution", "loss", "rate",
		"burst", "per", "limit",
	};
	const char *best = NULL;
	unsigned best_d = 3;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		unsigned d = distance(ld->key, keys[i]);

		if (d < best_d)
			best = keys[i], best_d = d;
	}
	if (best)
		return vd_rule_fail(ld, "unknown key (did you mean \"%s\"?)", best);
	return vd_rule_fail(ld, "unknown key");
}

/* Names key the hit counters and go into stats lines, log records and
 * messages, and the stats copy them into fixed fields. */
_Static_assert(VD_RULE_NAME_MAX < sizeof(((struct vd_rule_stats *)0)->name),
	       "a rule name must fit struct vd_rule_stats");

/* The rule's "name" (raw: no __index), checked, into r->name. */
static int read_name(struct loader *ld, struct vd_rule *r)
{
	lua_State *L = ld->L;
	char auto_name[32];
	const char *s;
	size_t len;

	ld->key = "name";
	lua_pushliteral(L, "name");
	if (lua_rawget(L, -2) == LUA_TNIL) {
		snprintf(auto_name, sizeof(auto_name), "rule%u", r->index);
		s = auto_name;
	} else if (lua_type(L, -1) != LUA_TSTRING) {
		return vd_rule_fail(ld, "expected a string");
	} else if (!(s = vd_rule_text(ld, -1))) {
		return -1;
	}
	len = strlen(s);
	if (len == 0)
		return vd_rule_fail(ld, "is empty");
	if (len > VD_RULE_NAME_MAX)
		return vd_rule_fail(ld, "%zu bytes: a name has at most %d", len, VD_RULE_NAME_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return vd_rule_fail(ld, "\"%s\" has a control character: names go into stats and "
					    "log lines", s);
	if (strcmp(s, "(default)") == 0)
		return vd_rule_fail(ld, "\"%s\" names the default verdict in stats", s);
	r->name = strdup(s);
	lua_pop(L, 1);
	ld->key = NULL;
	return r->name ? 0 : vd_rule_fail(ld, "out of memory");
}

/* Reads the rule table at the top of the stack. */
static int read_rule(struct loader *ld, struct vd_rule *r, struct vd_verdict dflt)
{
	lua_State *L = ld->L;
	struct seen s = { 0 };

	if (!lua_checkstack(L, 8))
		return vd_rule_fail(ld, "out of memory (Lua stack)");
	if (read_name(ld, r) < 0 || vd_rule_plain_table(ld, -1) < 0)
		return -1;
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		int ret;

		if (lua_type(L, -2) != LUA_TSTRING) {
			const char *type = luaL_typename(L, -2);

			lua_pop(L, 2);
			return vd_rule_fail(ld, "keys must be names, not %s", type);
		}
		ld->key = NULL;
		ld->key = vd_rule_text(ld, -2);
		if (!ld->key) {
			lua_pop(L, 2);
			return -1;
		}
		ret = strcmp(ld->key, "name") == 0 ? 0 : read_match_key(ld, r, ld->key);
		if (ret == 1)
			ret = read_action_key(ld, r, ld->key, &s);
		if (ret == 1)
			ret = vd_rule_shape_read(ld, r, ld->key);
		if (ret == 1)
			ret = unknown_key(ld);
		lua_pop(L, 1);
		if (ret < 0) {
			lua_pop(L, 1);
			return -1;
		}
	}
	if (!r->on_error_set)
		r->on_error = dflt;
	return check_action(ld, r, &s);
}

static int read_rules(struct loader *ld, struct vd_rule_file *f)
{
	lua_State *L = ld->L;
	lua_Integer n;

	if (vd_rule_list_len(ld, &n) < 0)
		return -1;
	if (n == 0)
		return 0;
	f->rules = calloc((size_t)n, sizeof(*f->rules));
	if (!f->rules)
		return vd_rule_fail(ld, "out of memory");
	ld->key = NULL;
	for (lua_Integer i = 1; i <= n; i++) {
		struct vd_rule *r = &f->rules[f->nrules++];

		r->index = (unsigned)i;
		ld->rule = r;
		ld->key = NULL;
		lua_rawgeti(L, -1, i);
		if (!lua_istable(L, -1)) {
			lua_pop(L, 1);
			return vd_rule_fail(ld, "expected a table like { proto = \"tcp\", verdict = \"drop\" }");
		}
		if (read_rule(ld, r, f->default_verdict) < 0)
			return -1;
		lua_pop(L, 1);
		f->nlua += r->action == VD_ACTION_LUA;
		f->delays |= vd_rule_shape_delays(&r->shape);
		f->kernel_verdicts |= vd_rule_kernel_needed(r);
	}
	ld->rule = NULL;
	return 0;
}

/* Pushes t[key] of the table at idx, raw; returns its type. */
static int raw_field(lua_State *L, int idx, const char *key)
{
	idx = lua_absindex(L, idx);
	lua_pushstring(L, key);
	return lua_rawget(L, idx);
}

/* Top-level keys: default, sets, rules, logs, log_default, seed,
 * first_packets. Stack: the file's table at -1. */
static int read_top(struct loader *ld, struct vd_rule_file *f)
{
	lua_State *L = ld->L;

	/* Every table is read raw (lua_rawget, lua_next): a metamethod would
	 * run file code with no budget. The file returns plain tables. */
	if (lua_getmetatable(L, -1)) {
		lua_pop(L, 1);
		return vd_rule_fail(ld, "the returned table has a metatable: not allowed (the loader reads "
				    "tables as they are)");
	}
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? vd_rule_text(ld, -2) : "";

		lua_pop(L, 1);
		if (!k) {
			lua_pop(L, 1);
			return -1;
		}
		if (strcmp(k, "default") && strcmp(k, "sets") && strcmp(k, "rules") &&
		    strcmp(k, "log_default") && strcmp(k, "logs") && strcmp(k, "seed") &&
		    strcmp(k, "first_packets")) {
			ld->key = k[0] ? k : "?";
			lua_pop(L, 1);
			return vd_rule_fail(ld, "unknown top-level key (default, log_default, sets, rules, "
					    "logs, seed, first_packets)");
		}
	}
	ld->key = "seed";
	if (raw_field(L, -1, "seed") != LUA_TNIL) {
		if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
			return vd_rule_fail(ld, "expected a whole number >= 0");
		f->seeded = true;
		f->seed = (uint64_t)lua_tointeger(L, -1);
	}
	lua_pop(L, 1);
	/* Read here, acted on by the daemon's generated kernel rules. */
	ld->key = "first_packets";
	if (raw_field(L, -1, "first_packets") != LUA_TNIL) {
		if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
		    lua_tointeger(L, -1) > VD_RULE_FIRST_PACKETS_MAX)
			return vd_rule_fail(ld, "expected a whole number from 1 to %u",
					    VD_RULE_FIRST_PACKETS_MAX);
		f->first_packets = (unsigned)lua_tointeger(L, -1);
	}
	lua_pop(L, 1);
	ld->key = "log_default";
	raw_field(L, -1, "log_default");
	if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
		return vd_rule_fail(ld, "expected true or false");
	f->log_default = lua_toboolean(L, -1);
	lua_pop(L, 1);
	f->default_verdict = vd_verdict_accept();
	ld->key = "default";
	if (raw_field(L, -1, "default") != LUA_TNIL &&
	    vd_rule_read_verdict_name(ld, &f->default_verdict, VD_RULE_ACCEPT_DROP) < 0)
		return -1;
	lua_pop(L, 1);
	/* For log packets "accept" means "write": what no entry drops is written,
	 * and a failing hook writes the packet unless its on_error says drop. */
	if (strcmp(ld->list, "logs") == 0)
		f->default_verdict = vd_verdict_accept();
	ld->key = "sets";
	raw_field(L, -1, "sets");
	if (!lua_isnil(L, -1) && !lua_istable(L, -1))
		return vd_rule_fail(ld, "expected a table of named address lists");
	ld->sets = lua_istable(L, -1) ? lua_gettop(L) : 0;
	lua_newtable(L);
	ld->set_marks = lua_gettop(L);
	if (vd_rule_sets_check(ld) < 0)
		return -1;
	ld->key = ld->list;
	raw_field(L, -3, ld->list);
	if (lua_isnil(L, -1) && strcmp(ld->list, "logs") == 0)
		return 0; /* logs are optional; rules are not */
	if (!lua_istable(L, -1))
		return vd_rule_fail(ld, "expected a list of %s, got %s", ld->list, luaL_typename(L, -1));
	return read_rules(ld, f);
}

struct protected_args {
	struct vd_lua *lua;
	struct loader *ld;
	struct vd_rule_file *f;
	int ret;
};

/* Runs under lua_pcall: a metamethod in the file (say, an __index that
 * errors) or a memory error must unwind to here, not through our frames. */
static int protected_read(lua_State *L)
{
	struct protected_args *a = lua_touserdata(L, 1);

	lua_settop(L, 0);
	vd_lua_push_result(a->lua);
	a->ret = read_top(a->ld, a->f);
	return 0;
}

int vd_rule_file_read(struct vd_lua *lua, const char *path, const char *list,
		      uint32_t kernel_mark_mask, struct vd_rule_file *out, char *err,
		      size_t errlen)
{
	struct loader ld = { .L = vd_lua_state(lua), .path = path, .err = err, .errlen = errlen,
			     .list = list, .kernel_mark_mask = kernel_mark_mask };
	struct protected_args args = { .lua = lua, .ld = &ld, .f = out, .ret = -1 };
	int top = lua_gettop(ld.L);

	memset(out, 0, sizeof(*out));
	lua_pushcfunction(ld.L, protected_read);
	lua_pushlightuserdata(ld.L, &args);
	if (lua_pcall(ld.L, 1, 0, 0) != LUA_OK) {
		/* Not lua_tostring alone: the error object may not be a string. */
		vd_rule_fail(&ld, "%s", lua_type(ld.L, -1) == LUA_TSTRING ? lua_tostring(ld.L, -1)
					: "error while reading the table (out of memory?)");
		args.ret = -1;
	}
	lua_settop(ld.L, top);
	if (args.ret < 0)
		vd_rule_file_free(out);
	return args.ret;
}

void vd_rule_file_free(struct vd_rule_file *f)
{
	for (size_t i = 0; i < f->nrules; i++) {
		struct vd_rule *r = &f->rules[i];

		free(r->name);
		free(r->plugin_path);
		free(r->plugin_symbol);
		free(r->plugin_args);
		for (int d = 0; d < VD_DIM_COUNT; d++)
			free(r->dim[d].ranges);
	}
	free(f->rules);
	memset(f, 0, sizeof(*f));
}

struct lua_refs_args {
	struct vd_lua *lua;
	struct loader *ld;
	const char *list;
	const struct vd_rule_file *f;
	int *refs;
	int ret;
};

/* Under lua_pcall (lua_refs_collect): pushing a name or taking a reference
 * may allocate, and an allocation that fails raises an error, which
 * outside a protected call would end the process. */
static int lua_refs_protected(lua_State *L)
{
	struct lua_refs_args *a = lua_touserdata(L, 1);
	int top;

	lua_checkstack(L, 8);
	top = lua_gettop(L);
	/* Raw reads: this is another run of the file, its tables unchecked. */
	vd_lua_push_result(a->lua);
	if (lua_type(L, -1) == LUA_TTABLE)
		raw_field(L, -1, a->list);
	else
		lua_pushnil(L);
	for (size_t i = 0; i < a->f->nrules && a->ret == 0; i++) {
		a->refs[i] = -1;
		if (a->f->rules[i].action != VD_ACTION_LUA)
			continue;
		a->ld->rule = &a->f->rules[i];
		if (lua_istable(L, -1))
			lua_rawgeti(L, -1, (lua_Integer)a->f->rules[i].index);
		else
			lua_pushnil(L);
		if (lua_istable(L, -1))
			raw_field(L, -1, "lua");
		else
			lua_pushnil(L);
		/* The file ran once per worker: one whose table differs between runs
		 * (it used time or randomness to build it) cannot be trusted. */
		if (!lua_isfunction(L, -1))
			a->ret = vd_rule_fail(a->ld, "is not a function on every run of the file");
		else if ((a->refs[i] = vd_lua_ref_function(a->lua)) < 0)
			a->ret = vd_rule_fail(a->ld, "cannot keep a reference to the function");
		lua_settop(L, top + 2);
	}
	return 0;
}

int vd_rule_file_lua_refs(struct vd_lua *lua, const char *path, const char *list,
			  const struct vd_rule_file *f, int *refs, char *err, size_t errlen)
{
	lua_State *L = vd_lua_state(lua);
	struct loader ld = { .L = L, .path = path, .err = err, .errlen = errlen, .key = "lua",
			     .list = list };
	struct lua_refs_args a = { .lua = lua, .ld = &ld, .list = list, .f = f, .refs = refs };
	int top = lua_gettop(L);

	for (size_t i = 0; i < f->nrules; i++)
		refs[i] = -1;
	if (!lua_checkstack(L, 2)) {
		snprintf(err, errlen, "%s: out of Lua stack", path);
		return -1;
	}
	lua_pushcfunction(L, lua_refs_protected);
	lua_pushlightuserdata(L, &a);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
		snprintf(err, errlen, "%s: hooks of the %s list: %s", path, list,
			 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error");
		a.ret = -1;
	}
	lua_settop(L, top);
	return a.ret;
}
