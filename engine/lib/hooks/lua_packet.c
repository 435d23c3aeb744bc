/*
 * lua_packet.c - the `pkt` object Lua hooks receive (lua_packet.h).
 *
 * A full userdata holding a pointer to the current packet view; reading a
 * field looks the name up and pushes the view's value. Numbers and the fixed
 * words (proto, ct_state) allocate nothing; addresses and payloads make
 * strings, as documented. Assignments and the set_* methods are
 * lua_rewrite.c's.
 */
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <lauxlib.h>

#include "lua_packet.h"
#include "lua_rewrite.h"

#define PKT_METATABLE "verdictd.packet"

struct vd_lua_packet *vd_lua_packet_get(lua_State *L)
{
	struct vd_lua_packet *u = luaL_checkudata(L, 1, PKT_METATABLE);

	if (!u->pkt)
		luaL_error(L, "packet used outside its hook call");
	return u;
}

static const struct vd_packet *pkt_check(lua_State *L)
{
	return vd_lua_packet_get(L)->pkt;
}

static const char *ct_name(const struct vd_packet *p)
{
	if (!(p->meta & VD_META_CT))
		return "invalid";
	switch (p->ct_state) {
	case VD_CT_ESTABLISHED:
	case VD_CT_ESTABLISHED_REPLY: return "established";
	case VD_CT_RELATED:
	case VD_CT_RELATED_REPLY: return "related";
	case VD_CT_NEW: return "new";
	case VD_CT_UNTRACKED: return "untracked";
	default: return "invalid";
	}
}

/* The bytes pkt:byte and pkt:payload index: none without an L4 payload. */
static lua_Integer payload_size(const struct vd_packet *p)
{
	return p->payload ? (lua_Integer)p->payload_len : 0;
}

/* A start index as Lua 5.4's string.sub reads it (lstrlib.c posrelatI):
 * negative counts from the end, 0 and anything before the start is 1. The
 * comparison comes first so that no sum can overflow. */
static lua_Integer start_index(lua_Integer i, lua_Integer n)
{
	if (i > 0)
		return i;
	if (i == 0 || i < -n)
		return 1;
	return n + i + 1;
}

/* An end index as string.sub reads it (getendpos): clamped to n, negative
 * counts from the end, anything before the start is 0. */
static lua_Integer end_index(lua_Integer j, lua_Integer n)
{
	if (j > n)
		return n;
	if (j >= 0)
		return j;
	if (j < -n)
		return 0;
	return n + j + 1;
}

/* pkt:byte(i): byte i of the L4 payload, as string.byte(payload, i) gives it
 * (negative i counts from the end); nil outside the payload. */
static int pkt_byte(lua_State *L)
{
	const struct vd_packet *p = pkt_check(L);
	lua_Integer i = luaL_checkinteger(L, 2), n = payload_size(p);

	if (i < 0 && i >= -n)
		i = n + i + 1;
	if (i < 1 || i > n)
		lua_pushnil(L);
	else
		lua_pushinteger(L, p->payload[i - 1]);
	return 1;
}

void vd_lua_packet_range(lua_State *L, int arg, lua_Integer n, lua_Integer *first,
			 lua_Integer *last)
{
	*first = start_index(luaL_optinteger(L, arg, 1), n);
	*last = end_index(luaL_optinteger(L, arg + 1, -1), n);
}

/* pkt:payload([i [, j]]): string.sub(payload, i or 1, j or -1), without
 * copying the payload first. */
static int pkt_payload(lua_State *L)
{
	const struct vd_packet *p = pkt_check(L);
	lua_Integer n = payload_size(p), i, j;

	vd_lua_packet_range(L, 2, n, &i, &j);

	if (i > j)
		lua_pushliteral(L, "");
	else
		lua_pushlstring(L, (const char *)p->payload + i - 1, (size_t)(j - i + 1));
	return 1;
}

static void push_address(lua_State *L, const struct vd_packet *p, const uint8_t *a)
{
	char buf[INET6_ADDRSTRLEN];

	if (!p->ip_version)
		lua_pushnil(L);
	else
		lua_pushstring(L, inet_ntop(p->ip_version == 4 ? AF_INET : AF_INET6, a, buf,
					    sizeof(buf)));
}

/* IPv4's TOS byte or IPv6's traffic class: DSCP in the upper six bits, ECN
 * in the lower two. 0 without an IP header (push_if's argument is evaluated
 * either way). */
static unsigned traffic_class(const struct vd_packet *p)
{
	if (!p->ip_version)
		return 0;
	if (p->ip_version == 4)
		return p->l3[1];
	return (unsigned)(p->l3[0] & 0x0fu) << 4 | p->l3[1] >> 4;
}

/* v, or nil when the packet does not have it. */
static void push_if(lua_State *L, bool has, lua_Integer v)
{
	if (has)
		lua_pushinteger(L, v);
	else
		lua_pushnil(L);
}

static void push_meta(lua_State *L, const struct vd_packet *p, uint32_t bit, uint32_t v)
{
	push_if(L, (p->meta & bit) != 0, v);
}

static double pkt_time(const struct vd_packet *p)
{
	struct timespec ts;

	if (p->meta & VD_META_TIMESTAMP)
		return (double)p->timestamp_ns / 1e9;
	clock_gettime(CLOCK_REALTIME, &ts); /* vDSO: no syscall */
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fields by name; each returns true when it pushed a value. A field the
 * packet does not have is nil, never 0: the same notion of "has ports",
 * "has ICMP" and "has TCP flags" the rule matcher uses (verdict/packet.h). */
static bool pkt_field(lua_State *L, const struct vd_packet *p, const char *k, size_t n)
{
	bool ip = p->ip_version != 0;

#define IS(lit) (n == sizeof(lit) - 1 && memcmp(k, lit, n) == 0)
	if (IS("dport"))
		push_if(L, vd_packet_has_ports(p), p->dport);
	else if (IS("sport"))
		push_if(L, vd_packet_has_ports(p), p->sport);
	else if (IS("len"))
		lua_pushinteger(L, p->len);
	else if (IS("proto")) {
		const char *name = vd_proto_name(p->l4_proto);

		if (ip && name)
			lua_pushstring(L, name);
		else
			push_if(L, ip, p->l4_proto);
	} else if (IS("src"))
		push_address(L, p, p->src);
	else if (IS("dst"))
		push_address(L, p, p->dst);
	else if (IS("ttl"))
		push_if(L, ip, p->ttl);
	else if (IS("dscp"))
		push_if(L, ip, traffic_class(p) >> 2);
	else if (IS("ecn"))
		push_if(L, ip, traffic_class(p) & 3u);
	else if (IS("tcp_flags"))
		push_if(L, vd_packet_has_tcp_flags(p), p->tcp_flags);
	else if (IS("mark")) /* the kernel leaves out a mark of 0 */
		lua_pushinteger(L, (p->meta & VD_META_MARK) ? p->mark : 0);
	else if (IS("indev"))
		push_meta(L, p, VD_META_INDEV, p->indev);
	else if (IS("outdev"))
		push_meta(L, p, VD_META_OUTDEV, p->outdev);
	else if (IS("uid"))
		push_meta(L, p, VD_META_UID, p->uid);
	else if (IS("gid"))
		push_meta(L, p, VD_META_GID, p->gid);
	else if (IS("queue"))
		lua_pushinteger(L, p->queue);
	else if (IS("ct_state"))
		lua_pushstring(L, ct_name(p));
	else if (IS("ip_version"))
		push_if(L, ip, p->ip_version);
	else if (IS("payload_len"))
		push_if(L, p->payload != NULL, p->payload_len);
	else if (IS("icmp_type"))
		push_if(L, vd_packet_has_icmp(p), p->icmp_type);
	else if (IS("icmp_code"))
		push_if(L, vd_packet_has_icmp(p), p->icmp_code);
	else if (IS("truncated"))
		lua_pushboolean(L, (p->flags & VD_PACKET_TRUNCATED) != 0);
	else if (IS("parse_error"))
		p->parse_error ? lua_pushstring(L, vd_parse_error_str(p->parse_error))
			       : lua_pushnil(L);
	else if (IS("hook"))
		lua_pushinteger(L, p->hook);
	else if (IS("id"))
		lua_pushinteger(L, p->id);
	else if (IS("time"))
		lua_pushnumber(L, pkt_time(p));
	else if (IS("prefix"))
		(p->meta & VD_META_PREFIX) && p->prefix ? lua_pushstring(L, p->prefix) : lua_pushnil(L);
	else if (IS("seq"))
		push_meta(L, p, VD_META_SEQ, p->seq);
	else if (IS("group"))
		push_if(L, p->source == VD_SOURCE_NFLOG, p->queue);
	else if (IS("byte"))
		lua_pushcfunction(L, pkt_byte);
	else if (IS("payload"))
		lua_pushcfunction(L, pkt_payload);
	else if (IS("set_byte"))
		lua_pushcfunction(L, vd_lua_packet_set_byte);
	else if (IS("set_payload"))
		lua_pushcfunction(L, vd_lua_packet_set_payload);
	else
		return false;
#undef IS
	return true;
}

static int pkt_index(lua_State *L)
{
	const struct vd_packet *p = pkt_check(L);
	size_t n;
	const char *k = lua_tolstring(L, 2, &n);

	if (lua_type(L, 2) != LUA_TSTRING || !pkt_field(L, p, k, n))
		return luaL_error(L, "pkt has no field \"%s\"", luaL_tolstring(L, 2, NULL));
	return 1;
}

static int pkt_tostring(lua_State *L)
{
	struct vd_lua_packet *u = luaL_checkudata(L, 1, PKT_METATABLE);
	const struct vd_packet *p = u->pkt;
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	if (!p) {
		lua_pushliteral(L, "pkt (expired)");
		return 1;
	}
	vd_packet_src_str(p, s, sizeof(s));
	vd_packet_dst_str(p, d, sizeof(d));
	lua_pushfstring(L, "pkt %s:%d -> %s:%d proto %d len %d", s, (int)p->sport, d, (int)p->dport,
			(int)p->l4_proto, (int)p->len);
	return 1;
}

struct vd_lua_packet *vd_lua_packet_new(lua_State *L)
{
	static const luaL_Reg meta[] = {
		{ "__index", pkt_index },
		{ "__newindex", vd_lua_packet_assign },
		{ "__tostring", pkt_tostring },
		{ NULL, NULL },
	};
	struct vd_lua_packet *u;

	luaL_newmetatable(L, PKT_METATABLE);
	luaL_setfuncs(L, meta, 0);
	lua_pushliteral(L, "pkt");
	lua_setfield(L, -2, "__name");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable"); /* getmetatable(pkt) reveals nothing */
	lua_pop(L, 1);
	u = lua_newuserdatauv(L, sizeof(*u), VD_LUA_PACKET_REFUSAL);
	u->pkt = NULL;
	u->edit = NULL;
	luaL_setmetatable(L, PKT_METATABLE);
	return u;
}
