/* rule_values.c - read the values of rules file keys (rule_values.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include <verdict/packet.h>

#include "rule_values.h"

/* Copies text to out, control characters as \xNN: whatever a rules file
 * puts in a name or a value, the message stays one line. */
static void copy_escaped(char *out, size_t size, const char *text)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p && o + 1 < size; p++) {
		if (*p >= 0x20 && *p != 0x7f) {
			out[o++] = (char)*p;
		} else if (o + 5 < size) {
			snprintf(out + o, size - o, "\\x%02x", *p);
			o += 4;
		} else {
			break;
		}
	}
	if (size)
		out[o] = '\0';
}

int vd_rule_fail(struct loader *ld, const char *fmt, ...)
{
	char what[256], line[1024];
	va_list ap;
	size_t off = 0;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	off += (size_t)snprintf(line, sizeof(line), "%s: ", ld->path);
	if (ld->rule && off < sizeof(line))
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%s %u \"%s\": ",
					strcmp(ld->list, "logs") == 0 ? "logs entry" : "rule",
					ld->rule->index, ld->rule->name ? ld->rule->name : "");
	if (ld->key && off < sizeof(line))
		off += (size_t)snprintf(line + off, sizeof(line) - off, "key \"%s\": ", ld->key);
	if (ld->set && off < sizeof(line))
		off += (size_t)snprintf(line + off, sizeof(line) - off, "set \"%s\": ", ld->set);
	if (off < sizeof(line))
		snprintf(line + off, sizeof(line) - off, "%s", what);
	copy_escaped(ld->err, ld->errlen, line);
	errno = EINVAL;
	return -1;
}

const char *vd_rule_text(struct loader *ld, int idx)
{
	size_t len;
	const char *s = lua_tolstring(ld->L, idx, &len);

	if (strlen(s) != len) {
		vd_rule_fail(ld, "\"%s\\0...\" contains a NUL byte", s);
		return NULL;
	}
	return s;
}

int vd_rule_plain_table(struct loader *ld, int idx)
{
	if (!lua_checkstack(ld->L, 4))
		return vd_rule_fail(ld, "out of memory (Lua stack)");
	if (!lua_getmetatable(ld->L, idx))
		return 0;
	lua_pop(ld->L, 1);
	return vd_rule_fail(ld, "a table with a metatable is not allowed here");
}

/* The key at the top of the stack is not a list position. */
static int list_key_fail(struct loader *ld)
{
	lua_State *L = ld->L;

	if (lua_type(L, -1) == LUA_TSTRING)
		return vd_rule_fail(ld, "has a key \"%s\": a list takes no names", lua_tostring(L, -1));
	if (lua_isinteger(L, -1))
		return vd_rule_fail(ld, "has a key %lld: a list's entries are numbered from 1",
				    (long long)lua_tointeger(L, -1));
	if (lua_type(L, -1) == LUA_TNUMBER)
		return vd_rule_fail(ld, "has a key %.14g: a list's entries are numbered from 1",
				    (double)lua_tonumber(L, -1));
	return vd_rule_fail(ld, "has a %s key: a list's entries are numbered from 1", luaL_typename(L, -1));
}

int vd_rule_list_len(struct loader *ld, lua_Integer *n)
{
	lua_State *L = ld->L;
	lua_Integer count = 0, max = 0;

	/* Raw reads only (lua_next, lua_rawgeti): lua_len would run __len. */
	if (vd_rule_plain_table(ld, -1) < 0)
		return -1;
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pop(L, 1);
		if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1) {
			list_key_fail(ld);
			lua_pop(L, 1);
			return -1;
		}
		count++;
		if (lua_tointeger(L, -1) > max)
			max = lua_tointeger(L, -1);
	}
	if (count != max) {
		/* Integer keys >= 1, fewer than the largest: one of 1..count+1 is missing. */
		lua_Integer i = 1;

		for (;; i++) {
			bool missing = lua_rawgeti(L, -1, i) == LUA_TNIL;

			lua_pop(L, 1);
			if (missing)
				break;
		}
		return vd_rule_fail(ld, "entry %lld is missing: a list has no holes", (long long)i);
	}
	*n = count;
	return 0;
}

/* Adds [lo, hi] to d; d NULL (a set being checked) adds nothing. The array
 * doubles at 4, 8, 16...: a set of a million prefixes is not a million
 * reallocs. */
static int add_range(struct loader *ld, struct vd_rule_dim_spec *d, vd_key lo, vd_key hi)
{
	size_t n = d ? d->nranges : 0;

	if (!d)
		return 0;
	if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
		struct vd_key_range *r = realloc(d->ranges, (n ? 2 * n : 4) * sizeof(*r));

		if (!r)
			return vd_rule_fail(ld, "out of memory");
		d->ranges = r;
	}
	d->ranges[d->nranges++] = (struct vd_key_range){ lo, hi };
	d->constrained = true;
	return 0;
}

/* Calls one(ld, value at top, arg) for a scalar, or for each element of a
 * list; the value is at the top of the stack and stays there. */
int vd_rule_each_item(struct loader *ld, item_fn one, void *arg)
{
	lua_State *L = ld->L;
	lua_Integer n;

	if (!lua_istable(L, -1))
		return one(ld, arg);
	if (vd_rule_list_len(ld, &n) < 0)
		return -1;
	if (n == 0)
		return vd_rule_fail(ld, "an empty list matches nothing; leave the key out instead");
	for (lua_Integer i = 1; i <= n; i++) {
		int ret;

		lua_rawgeti(L, -1, i);
		ret = lua_istable(L, -1) ? vd_rule_fail(ld, "lists do not nest") : one(ld, arg);
		lua_pop(L, 1);
		if (ret < 0)
			return -1;
	}
	return 0;
}

/* Reads an integer in [min, max] from the top of the stack. */
int vd_rule_read_uint(struct loader *ld, uint64_t min, uint64_t max, uint64_t *out)
{
	int isnum;
	lua_Integer v;

	if (lua_type(ld->L, -1) != LUA_TNUMBER)
		return vd_rule_fail(ld, "expected a whole number, got %s", luaL_typename(ld->L, -1));
	v = lua_tointegerx(ld->L, -1, &isnum);
	if (!isnum)
		return vd_rule_fail(ld, "%.14g is not a whole number", (double)lua_tonumber(ld->L, -1));
	if (v < 0 || (uint64_t)v < min || (uint64_t)v > max)
		return vd_rule_fail(ld, "%lld is out of range %llu-%llu", (long long)v,
			    (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)v;
	return 0;
}

/* A whole number up to UINT32_MAX written in C syntax (16, 0x10, 020) at
 * the start of s; no sign, no blank. */
static bool text_u32(const char *s, char **end, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, end, 0);
	return errno == 0 && *out <= UINT32_MAX;
}

/* A number, or "lo-hi" text, within [0, max] (max <= UINT32_MAX). */
int vd_rule_read_range(struct loader *ld, uint64_t max, uint64_t *lo, uint64_t *hi)
{
	const char *s;
	char *end;
	uint64_t a, b;

	if (lua_type(ld->L, -1) == LUA_TNUMBER) {
		if (vd_rule_read_uint(ld, 0, max, lo) < 0)
			return -1;
		*hi = *lo;
		return 0;
	}
	if (lua_type(ld->L, -1) != LUA_TSTRING)
		return vd_rule_fail(ld, "expected a number or a \"low-high\" range, got %s",
			    luaL_typename(ld->L, -1));
	if (!(s = vd_rule_text(ld, -1)))
		return -1;
	if (!text_u32(s, &end, &a) || *end != '-')
		return vd_rule_fail(ld, "\"%s\" is not a number or a \"low-high\" range", s);
	if (!text_u32(end + 1, &end, &b) || *end || a > b || b > max)
		return vd_rule_fail(ld, "\"%s\" is not a range with low <= high <= %llu", s,
				    (unsigned long long)max);
	*lo = a;
	*hi = b;
	return 0;
}

int vd_rule_port_item(struct loader *ld, void *arg)
{
	uint64_t lo = 0, hi = 0;

	if (vd_rule_read_range(ld, 65535, &lo, &hi) < 0)
		return -1;
	return add_range(ld, arg, lo, hi);
}

static vd_key key_from_bytes(const uint8_t *b, size_t n)
{
	vd_key k = 0;

	for (size_t i = 0; i < n; i++)
		k = (k << 8) | b[i];
	return k;
}

/* Parses "addr" or "addr/len" into a range of the shared address key space. */
static int parse_prefix(const char *text, vd_key *lo, vd_key *hi)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	uint8_t bytes[16];
	unsigned len, max;
	vd_key k, host;

	if (strlen(text) >= sizeof(addr))
		return -1;
	snprintf(addr, sizeof(addr), "%.*s", slash ? (int)(slash - text) : (int)strlen(text), text);
	if (inet_pton(AF_INET, addr, bytes) == 1) {
		max = 32;
		k = ((vd_key)0xffff << 32) | key_from_bytes(bytes, 4); /* ::ffff:a.b.c.d */
	} else if (inet_pton(AF_INET6, addr, bytes) == 1) {
		max = 128;
		k = key_from_bytes(bytes, 16);
	} else {
		return -1;
	}
	len = max;
	if (slash) {
		/* Decimal digits only, checked as they come: strtoul would take a
		 * sign or blanks, and a length past UINT_MAX would wrap. */
		const char *p = slash + 1;

		if (!*p)
			return -1;
		for (len = 0; *p; p++)
			if (*p < '0' || *p > '9' || (len = len * 10 + (unsigned)(*p - '0')) > max)
				return -1;
	}
	host = max - len >= 128 ? (vd_key)-1 : (((vd_key)1 << (max - len)) - 1);
	if (max - len == 0)
		host = 0;
	*lo = k & ~host;
	*hi = *lo | host;
	return 0;
}

int vd_rule_address_item(struct loader *ld, void *arg)
{
	const char *s;
	vd_key lo, hi;

	if (lua_type(ld->L, -1) != LUA_TSTRING)
		return vd_rule_fail(ld, "expected an address or prefix string, got %s",
			    luaL_typename(ld->L, -1));
	if (!(s = vd_rule_text(ld, -1)))
		return -1;
	if (s[0] == '@') {
		if (ld->set_depth == 0)
			ld->set_pass++; /* a rule's "@name": a pass of its own */
		return vd_rule_set_items(ld, s + 1, arg);
	}
	if (parse_prefix(s, &lo, &hi) < 0)
		return vd_rule_fail(ld, "\"%s\" is not an IPv4 or IPv6 address or prefix", s);
	return add_range(ld, arg, lo, hi);
}

int vd_rule_proto_item(struct loader *ld, void *arg)
{
	static const struct { const char *name; unsigned num; } names[] = {
		{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { "icmp", IPPROTO_ICMP },
		{ "icmpv6", IPPROTO_ICMPV6 }, { "sctp", IPPROTO_SCTP }, { "esp", IPPROTO_ESP },
		{ "ah", IPPROTO_AH }, { "gre", IPPROTO_GRE }, { "udplite", IPPROTO_UDPLITE },
	};
	uint64_t num;

	if (lua_type(ld->L, -1) == LUA_TSTRING) {
		const char *s = vd_rule_text(ld, -1);

		if (!s)
			return -1;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(s, names[i].name) == 0)
				return add_range(ld, arg, names[i].num, names[i].num);
		return vd_rule_fail(ld, "unknown protocol \"%s\" (tcp, udp, icmp, icmpv6, sctp, esp, ah, gre, "
				"udplite or a number)", s);
	}
	if (vd_rule_read_uint(ld, 0, 255, &num) < 0)
		return -1;
	return add_range(ld, arg, num, num);
}

int vd_rule_iface_item(struct loader *ld, void *arg)
{
	uint64_t index;

	if (lua_type(ld->L, -1) == LUA_TSTRING) {
		const char *s = vd_rule_text(ld, -1);

		if (!s)
			return -1;
		index = if_nametoindex(s);
		if (index == 0)
			return vd_rule_fail(ld, "no interface named \"%s\" (in this network namespace)", s);
	} else if (vd_rule_read_uint(ld, 1, UINT32_MAX, &index) < 0) {
		return -1;
	}
	return add_range(ld, arg, index, index);
}

/* { value = V [, mask = M] }, the table at the top of the stack. */
static int read_mask_table(struct loader *ld, uint64_t *v, uint64_t *m)
{
	lua_State *L = ld->L;
	bool value = false;
	int ret;

	if (vd_rule_plain_table(ld, -1) < 0)
		return -1;
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? vd_rule_text(ld, -2) : "";

		if (!k) {
			ret = -1;
		} else if (strcmp(k, "value") == 0) {
			value = true;
			ret = vd_rule_read_uint(ld, 0, UINT32_MAX, v);
		} else if (strcmp(k, "mask") == 0) {
			ret = vd_rule_read_uint(ld, 0, UINT32_MAX, m);
		} else if (lua_type(L, -2) == LUA_TSTRING) {
			ret = vd_rule_fail(ld, "unknown key \"%s\" in a mark table (value, mask)", k);
		} else {
			ret = vd_rule_fail(ld, "a mark table has the keys value and mask, not a %s key",
					   luaL_typename(L, -2));
		}
		if (ret < 0) {
			lua_pop(L, 2);
			return -1;
		}
		lua_pop(L, 1);
	}
	if (!value)
		return vd_rule_fail(ld, "a mark table needs a value: { value = V, mask = M }");
	return 0;
}

/* A 32-bit value with an optional mask: number, "value/mask", {value=,mask=}.
 * Without a mask every bit is selected: the value replaces the whole mark. */
int vd_rule_read_masked(struct loader *ld, uint32_t *value, uint32_t *mask)
{
	lua_State *L = ld->L;
	uint64_t v = 0, m = UINT32_MAX;

	if (lua_type(L, -1) == LUA_TSTRING) {
		char *end;
		const char *s = vd_rule_text(ld, -1);
		bool ok;

		if (!s)
			return -1;
		ok = text_u32(s, &end, &v);
		if (ok && *end == '/')
			ok = text_u32(end + 1, &end, &m);
		if (!ok || *end)
			return vd_rule_fail(ld, "\"%s\" is not \"value\" or \"value/mask\" (32-bit numbers)", s);
	} else if (lua_istable(L, -1)) {
		if (read_mask_table(ld, &v, &m) < 0)
			return -1;
	} else if (vd_rule_read_uint(ld, 0, UINT32_MAX, &v) < 0) {
		return -1;
	}
	*value = (uint32_t)v;
	*mask = (uint32_t)m;
	return 0;
}

/* "syn,!ack": listed flags are tested, "!" ones must be clear. */
int vd_rule_read_tcp_flags(struct loader *ld, uint8_t *mask, uint8_t *value)
{
	const char *s;

	if (lua_type(ld->L, -1) != LUA_TSTRING)
		return vd_rule_fail(ld, "expected flags like \"syn,!ack\"");
	if (!(s = vd_rule_text(ld, -1)))
		return -1;
	if (!*s) /* mask 0 would match every packet */
		return vd_rule_fail(ld, "expected flags like \"syn,!ack\"");
	*mask = *value = 0;
	while (*s) {
		bool clear = *s == '!';
		size_t n, i;

		s += clear;
		n = strcspn(s, ",");
		for (i = 0; i < 8; i++)
			if (strlen(vd_tcp_flag_name(i)) == n && strncmp(s, vd_tcp_flag_name(i), n) == 0)
				break;
		if (i == 8)
			return vd_rule_fail(ld, "unknown TCP flag \"%.*s\" (fin syn rst psh ack urg ece cwr, "
					"\"!\" for clear)", (int)n, s);
		if (*mask & (1u << i))
			return vd_rule_fail(ld, "flag \"%s\" given twice", vd_tcp_flag_name(i));
		*mask |= (uint8_t)(1u << i);
		if (!clear)
			*value |= (uint8_t)(1u << i);
		s += n + (s[n] == ',');
	}
	return 0;
}

int vd_rule_ct_item(struct loader *ld, void *arg)
{
	uint32_t *states = arg;
	const char *s;

	if (lua_type(ld->L, -1) != LUA_TSTRING)
		return vd_rule_fail(ld, "expected a conntrack state (new, established, related, untracked, "
				    "invalid), got %s", luaL_typename(ld->L, -1));
	if (!(s = vd_rule_text(ld, -1)))
		return -1;
	if (strcmp(s, "new") == 0)
		*states |= 1u << VD_CT_NEW;
	else if (strcmp(s, "established") == 0)
		*states |= 1u << VD_CT_ESTABLISHED | 1u << VD_CT_ESTABLISHED_REPLY;
	else if (strcmp(s, "related") == 0)
		*states |= 1u << VD_CT_RELATED | 1u << VD_CT_RELATED_REPLY;
	else if (strcmp(s, "untracked") == 0)
		*states |= 1u << VD_CT_UNTRACKED;
	else if (strcmp(s, "invalid") == 0)
		*states |= VD_CT_INVALID_BIT;
	else
		return vd_rule_fail(ld, "unknown conntrack state \"%s\" (new, established, related, "
				"untracked, invalid)", s);
	return 0;
}

int vd_rule_read_verdict_name(struct loader *ld, struct vd_verdict *v, enum vd_rule_verdicts which)
{
	bool any = which == VD_RULE_ANY_VERDICT;
	const char *s = NULL;

	if (lua_type(ld->L, -1) == LUA_TSTRING && !(s = vd_rule_text(ld, -1)))
		return -1;

	if (s && any && strcmp(s, "queue") == 0) {
		*v = vd_verdict_queue(0, false);
		return 0;
	}
	/* "repeat" and "reject" only where a rule decides: as the default or a
	 * hook's on_error repeat would send every such packet round again, a
	 * reject needs the generated kernel rules a default should not depend
	 * on, and a logs entry only says whether to write. */
	if (!s || vd_verdict_parse(s, v) < 0 ||
	    (!any && v->kind != VD_VERDICT_ACCEPT && v->kind != VD_VERDICT_DROP))
		return vd_rule_fail(ld, "expected %s", any ? "\"accept\", \"drop\", \"reject\", "
						     "\"repeat\" or \"queue\""
						     : "\"accept\" or \"drop\"");
	return 0;
}

int vd_rule_read_string(struct loader *ld, char **out)
{
	if (lua_type(ld->L, -1) != LUA_TSTRING)
		return vd_rule_fail(ld, "expected a string, got %s", luaL_typename(ld->L, -1));
	if (!vd_rule_text(ld, -1))
		return -1;
	free(*out);
	*out = strdup(lua_tostring(ld->L, -1));
	return *out ? 0 : vd_rule_fail(ld, "out of memory");
}
