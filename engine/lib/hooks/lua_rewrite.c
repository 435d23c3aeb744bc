/*
 * lua_rewrite.c - pkt's assignments and set_* methods (lua_rewrite.h).
 *
 * Each checks its Lua value, then calls the packet editor. The editor keeps
 * the view up to date, and the view is the one pkt reads (vd_lua_call hands
 * both), so a read after a write sees the new value. Nothing here runs
 * unless a script writes: a hook that only reads costs what it did before.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <lauxlib.h>

#include "lua_packet.h"
#include "lua_rewrite.h"

enum assignable { TTL, DSCP, ECN, SRC, DST, SPORT, DPORT, TCP_FLAGS, NASSIGNABLE };

static const char *const assignable_names[NASSIGNABLE] = {
	"ttl", "dscp", "ecn", "src", "dst", "sport", "dport", "tcp_flags",
};

#define ASSIGNABLE_LIST "ttl, dscp, ecn, src, dst, sport, dport, tcp_flags"

/* The packet's edit; raises naming what was written when the packet cannot
 * be rewritten. */
static struct vd_packet_edit *writable(lua_State *L, const char *what)
{
	struct vd_lua_packet *u = vd_lua_packet_get(L);

	if (!u->edit)
		luaL_error(L, "%s: packet is read-only here (a log group's copy, or evaluated "
			   "without rewriting)", what);
	/* The caller's contract (lua_hook.h); reads would go stale otherwise. */
	if (u->edit->pkt != u->pkt)
		luaL_error(L, "%s: the edit is over another packet view", what);
	return u->edit;
}

/* A refused edit call raises "WHAT: REASON" and leaves edit->reason set. The
 * message is also kept as the packet's user value: vd_lua_call compares the
 * error a failed hook raised with it, to know whether the refusal (and not
 * something later, after the script caught it) ended the hook. */
static void edit_done(lua_State *L, const char *what, const struct vd_packet_edit *edit,
		      int err)
{
	if (err >= 0)
		return;
	luaL_where(L, 1);
	lua_pushfstring(L, "%s: %s", what,
			vd_packet_edit_reason_str((enum vd_edit_reason)edit->reason));
	lua_concat(L, 2);
	lua_pushvalue(L, -1);
	lua_setiuservalue(L, 1, VD_LUA_PACKET_REFUSAL);
	lua_error(L);
}

/* The value at idx as a whole number 0..max, or an error naming what. */
static unsigned whole_number(lua_State *L, int idx, const char *what, unsigned max)
{
	lua_Integer v;
	int isnum;

	if (lua_type(L, idx) != LUA_TNUMBER)
		luaL_error(L, "%s: expected a whole number 0-%d, got a %s", what, (int)max,
			   luaL_typename(L, idx));
	v = lua_tointegerx(L, idx, &isnum);
	if (!isnum || v < 0 || v > (lua_Integer)max)
		luaL_error(L, "%s: expected a whole number 0-%d, got %s", what, (int)max,
			   luaL_tolstring(L, idx, NULL));
	return (unsigned)v;
}

static int address_write(lua_State *L, struct vd_packet_edit *edit, const char *what, bool dst)
{
	uint8_t addr[16], version;
	size_t n;
	const char *s;

	if (lua_type(L, 3) != LUA_TSTRING)
		luaL_error(L, "%s: expected an address string, got a %s", what,
			   luaL_typename(L, 3));
	s = lua_tolstring(L, 3, &n);
	if (strlen(s) == n && inet_pton(AF_INET, s, addr) == 1)
		version = 4;
	else if (strlen(s) == n && inet_pton(AF_INET6, s, addr) == 1)
		version = 6;
	else
		return luaL_error(L, "%s: \"%s\" is not an IPv4 or IPv6 address", what, s);
	return dst ? vd_packet_edit_set_dst(edit, version, addr)
		   : vd_packet_edit_set_src(edit, version, addr);
}

/* Bit b of a flag written as n bytes at s ("syn"), or 8 when unknown. */
static unsigned flag_bit(const char *s, size_t n)
{
	unsigned b;

	for (b = 0; b < 8; b++)
		if (strlen(vd_tcp_flag_name(b)) == n && memcmp(s, vd_tcp_flag_name(b), n) == 0)
			break;
	return b;
}

/* "syn,!ack", as rules files write flags: those listed are set, those with
 * "!" cleared, the others left. A number is the whole flags byte. */
static int flags_write(lua_State *L, struct vd_packet_edit *edit, const char *what)
{
	uint8_t set = 0, clear = 0;
	const char *s;

	if (lua_type(L, 3) == LUA_TNUMBER) {
		set = (uint8_t)whole_number(L, 3, what, 255);
		return vd_packet_edit_set_tcp_flags(edit, set, (uint8_t)~set);
	}
	if (lua_type(L, 3) != LUA_TSTRING)
		luaL_error(L, "%s: expected flags like \"syn,!ack\" or a number, got a %s", what,
			   luaL_typename(L, 3));
	s = lua_tostring(L, 3);
	if (!*s)
		luaL_error(L, "%s: expected flags like \"syn,!ack\"", what);
	while (*s) {
		bool off = *s == '!';
		size_t n = strcspn(s + off, ",");
		unsigned b = flag_bit(s + off, n);

		if (b == 8) {
			lua_pushlstring(L, s + off, n);
			luaL_error(L, "%s: unknown TCP flag \"%s\" (fin syn rst psh ack urg ece cwr, "
				   "\"!\" for clear)", what, lua_tostring(L, -1));
		}
		if ((set | clear) & (1u << b))
			luaL_error(L, "%s: flag \"%s\" given twice", what, vd_tcp_flag_name(b));
		if (off)
			clear |= (uint8_t)(1u << b);
		else
			set |= (uint8_t)(1u << b);
		s += off + n + (s[off + n] == ',');
	}
	return vd_packet_edit_set_tcp_flags(edit, set, clear);
}

static int field_index(lua_State *L)
{
	size_t n;
	const char *k;

	if (lua_type(L, 2) != LUA_TSTRING)
		return NASSIGNABLE;
	k = lua_tolstring(L, 2, &n);
	for (int i = 0; i < NASSIGNABLE; i++)
		if (strlen(assignable_names[i]) == n && memcmp(k, assignable_names[i], n) == 0)
			return i;
	return NASSIGNABLE;
}

int vd_lua_packet_assign(lua_State *L)
{
	int field = field_index(L), err;
	struct vd_packet_edit *edit;
	char what[16];

	if (field == NASSIGNABLE)
		return luaL_error(L, "pkt.%s cannot be assigned (assignable: " ASSIGNABLE_LIST ")",
				  luaL_tolstring(L, 2, NULL));
	snprintf(what, sizeof(what), "pkt.%s", assignable_names[field]);
	edit = writable(L, what);
	switch (field) {
	case TTL:
		err = vd_packet_edit_set_ttl(edit, (uint8_t)whole_number(L, 3, what, 255));
		break;
	case DSCP:
		err = vd_packet_edit_set_dscp(edit, (uint8_t)whole_number(L, 3, what, 63));
		break;
	case ECN:
		err = vd_packet_edit_set_ecn(edit, (uint8_t)whole_number(L, 3, what, 3));
		break;
	case SRC:
	case DST:
		err = address_write(L, edit, what, field == DST);
		break;
	case SPORT:
		err = vd_packet_edit_set_sport(edit, (uint16_t)whole_number(L, 3, what, 65535));
		break;
	case DPORT:
		err = vd_packet_edit_set_dport(edit, (uint16_t)whole_number(L, 3, what, 65535));
		break;
	default:
		err = flags_write(L, edit, what);
		break;
	}
	edit_done(L, what, edit, err);
	return 0;
}

static lua_Integer payload_size(const struct vd_packet *p)
{
	return p->payload ? (lua_Integer)p->payload_len : 0;
}

int vd_lua_packet_set_byte(lua_State *L)
{
	static const char what[] = "pkt:set_byte";
	struct vd_packet_edit *edit = writable(L, what);
	lua_Integer n = payload_size(edit->pkt), i = luaL_checkinteger(L, 2);
	lua_Integer at = i < 0 ? n + i + 1 : i;
	uint8_t byte = (uint8_t)whole_number(L, 3, what, 255);

	if (at < 1 || at > n)
		return luaL_error(L, "%s: index %I is outside the payload (1-%I)", what, i, n);
	edit_done(L, what, edit,
		  vd_packet_edit_replace_payload(edit, (uint32_t)at - 1, (uint32_t)at, &byte, 1));
	return 0;
}

int vd_lua_packet_set_payload(lua_State *L)
{
	static const char what[] = "pkt:set_payload";
	struct vd_packet_edit *edit = writable(L, what);
	lua_Integer n = payload_size(edit->pkt), i, j;
	const char *s;
	size_t len;

	if (lua_type(L, 2) != LUA_TSTRING)
		return luaL_error(L, "%s: expected a string, got a %s", what, luaL_typename(L, 2));
	s = lua_tolstring(L, 2, &len);
	vd_lua_packet_range(L, 3, n, &i, &j);
	/* What string.sub would return; when that is empty, the place before
	 * byte i (at most just past the end) to insert at. */
	if (i > n + 1)
		i = n + 1;
	if (j < i - 1)
		j = i - 1;
	/* Longer than any packet: the editor refuses it (TOO_LONG) without
	 * reading the bytes, and the length fits its argument. */
	if (len > VD_EDIT_MAX_LEN)
		len = VD_EDIT_MAX_LEN + 1;
	edit_done(L, what, edit,
		  vd_packet_edit_replace_payload(edit, (uint32_t)(i - 1), (uint32_t)j,
						 (const uint8_t *)s, (uint32_t)len));
	return 0;
}
