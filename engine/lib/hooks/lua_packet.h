/*
 * lua_packet.h - the `pkt` object Lua hooks receive: one reused userdata per
 * Lua state over the zero-copy packet view (fields pkt.proto, pkt.src, ...,
 * methods pkt:byte(i), pkt:payload([i [, j]]); see verdictd-rules(5), LUA HOOKS).
 * Writes (pkt.ttl = 7, pkt:set_payload(s), ...) are in lua_rewrite.h.
 *
 * Threading: belongs to its lua_State, like everything in it.
 */
#ifndef VD_LUA_PACKET_H
#define VD_LUA_PACKET_H

#include <lua.h>

#include <verdict/edit.h>
#include <verdict/packet.h>

struct vd_lua_packet {
	const struct vd_packet *pkt; /* NULL outside a hook call: use raises an error */
	/* The packet's edit, whose view is pkt; NULL: the packet is read-only.
	 * Meaningful only while pkt is set. */
	struct vd_packet_edit *edit;
};

/* The userdata's one user value: the message of the last refused write
 * (lua_rewrite.c), so that vd_lua_call can tell whether that refusal is
 * what made the hook fail. */
#define VD_LUA_PACKET_REFUSAL 1

/* Registers the metatable and pushes the one packet object of L (may raise
 * a memory error: call in protected mode). The caller points ->pkt (and
 * ->edit) at each packet for the length of a call and ->pkt back to NULL. */
struct vd_lua_packet *vd_lua_packet_new(lua_State *L);

/* For the methods and metamethods: the packet object at stack index 1.
 * Raises an error when it is not one or is used outside its hook call. */
struct vd_lua_packet *vd_lua_packet_get(lua_State *L);

/* The 1-based range [*first, *last] that string.sub(payload, i, j) takes
 * from an n-byte payload, i and j being arguments arg and arg + 1 (defaults
 * 1 and -1). Empty when *first > *last; *first may exceed n. */
void vd_lua_packet_range(lua_State *L, int arg, lua_Integer n, lua_Integer *first,
			 lua_Integer *last);

#endif
