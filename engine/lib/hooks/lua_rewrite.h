/*
 * lua_rewrite.h - writing the packet from a Lua hook: the assignments
 * pkt.ttl, pkt.dscp, pkt.ecn, pkt.src, pkt.dst, pkt.sport, pkt.dport,
 * pkt.tcp_flags and the methods pkt:set_byte(i, v), pkt:set_payload(s [, i
 * [, j]]), all through the packet's edit (verdict/edit.h).
 *
 * Errors, each a Lua error whose message starts with what was written
 * ("pkt.sport: ...", "pkt:set_payload: ..."):
 * - the packet is read-only (vd_lua_packet.edit is NULL: a log group's copy,
 *   a caller that does not rewrite);
 * - a value that is not the field's (a type, a range, an address that does
 *   not parse, an unknown TCP flag): the script's error, edit->reason OK;
 * - a refusal of the edit itself: vd_packet_edit_reason_str's phrase, with
 *   edit->reason left set and the message kept as the packet object's user
 *   value VD_LUA_PACKET_REFUSAL (lua_hook.c looks there).
 *
 * Hot path only when a script writes; a hook that writes nothing never
 * reaches this file.
 */
#ifndef VD_LUA_REWRITE_H
#define VD_LUA_REWRITE_H

#include <lua.h>

/* __newindex of the packet object: (pkt, key, value). */
int vd_lua_packet_assign(lua_State *L);

/* pkt:set_byte(i, v): byte i of the L4 payload (1-based; negative counts
 * from the end, as pkt:byte does) becomes v (0-255). */
int vd_lua_packet_set_byte(lua_State *L);

/* pkt:set_payload(s [, i [, j]]): the bytes string.sub(payload, i, j) would
 * return (i, j default 1, -1) are replaced by s; an empty range inserts s
 * before byte i (after the last when i is past it). */
int vd_lua_packet_set_payload(lua_State *L);

#endif
