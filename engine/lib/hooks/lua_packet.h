/*
 * lua_packet.h - the `pkt` object Lua hooks receive: one reused userdata per
 * Lua state over the zero-copy packet view (fields pkt.proto, pkt.src, ...,
 * methods pkt:byte(i), pkt:payload([i [, j]]); see README "Lua hooks").
 *
 * Threading: belongs to its lua_State, like everything in it.
 */
#ifndef VD_LUA_PACKET_H
#define VD_LUA_PACKET_H

#include <lua.h>

#include <verdict/packet.h>

struct vd_lua_packet {
	const struct vd_packet *pkt; /* NULL outside a hook call: use raises an error */
};

/* Registers the metatable and pushes the one packet object of L (may raise
 * a memory error: call in protected mode). The caller points ->pkt at each
 * packet for the length of a call and back to NULL. */
struct vd_lua_packet *vd_lua_packet_new(lua_State *L);

#endif
