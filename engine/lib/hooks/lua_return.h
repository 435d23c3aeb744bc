/*
 * lua_return.h - reads what a Lua hook returned into a verdict.
 *
 * A hook returns a verdict ("accept", "drop", "reject", "repeat", "queue"
 * or the ACCEPT/DROP/REJECT/REPEAT/QUEUE numbers), then optionally
 *   - a number: the queue number for "queue", the whole mark otherwise;
 *   - a mark table { value = V, mask = M } (not for "queue");
 *   - an options table { delay = S, mark = M, queue = N, bypass = B,
 *     reject_with = W }: delay in seconds (a number from 0; above 0 and
 *     under a microsecond holds for 1 us; at most VD_VERDICT_MAX_DELAY_US);
 *     M a number or a mark table; queue for "queue" only; bypass on
 *     "queue" accepts when nobody listens, on "accept", "drop" or "reject"
 *     decides the rest of the connection in the kernel
 *     (VD_VERDICT_F_CONNECTION), not on "repeat"; W for "reject" only,
 *     "tcp-reset", "icmp-port-unreachable", ... (reject_with.h). A reject
 *     or a connection decision takes no delay: the kernel acts at once.
 *
 * Threading: belongs to its lua_State.
 */
#ifndef VD_LUA_RETURN_H
#define VD_LUA_RETURN_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

#include <verdict/verdict.h>

/* Reads the verdict at stack index -2 and what follows it at -1 into *v.
 * Runs no metamethod and allocates nothing (the caller has made room for 4
 * more stack slots); leaves the stack as it found it. On a bad return,
 * writes a one-line reason naming the value or option into why and returns
 * false. */
bool vd_lua_return_read(lua_State *L, struct vd_verdict *v, char *why, size_t size);

#endif
