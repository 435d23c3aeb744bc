/*
 * lua_shaping.h - the `shaping` library of the Lua sandbox: a delaying
 * token bucket, a seeded generator with netem's delay distributions, and a
 * Gilbert-Elliott loss model, over libverdict's shaping core
 * (engine/lib/shaping/), for scripts that build their own per-flow models.
 *
 *   shaping.bucket{ rate = R, burst = B [, limit = L] }
 *     R: "10mbit", "1.5gbit", ... or bits per second; B: "32kb", "1500b",
 *     ... or bytes; L: "50ms", ... or seconds. Starts full.
 *     b:wait(n) -> seconds a packet of n bytes arriving now must wait (0:
 *     at once), its departure reserved; with limit, nil (nothing reserved)
 *     when the wait would exceed L: the caller drops.
 *   shaping.rng([seed]) -> generator; without a seed, seeded from the clock.
 *     g:uniform() -> [0, 1); g:chance(p) -> true with probability p;
 *     g:normal(mu, sigma), g:pareto(mu, sigma), g:paretonormal(mu, sigma)
 *     -> a delay in seconds drawn as netem draws it (mu, sigma in seconds,
 *     never below 0; distribution.h).
 *   shaping.gemodel{ p = P [, r = R, h = H, k = K, seed = S] }
 *     netem's Gilbert-Elliott (loss.h; defaults r = 1 - p, h = 0, k = 1);
 *     m:lose() -> true when this packet is lost; m:rate() -> the long-run
 *     loss rate. Probabilities are numbers in [0, 1] or "1%" strings.
 * Bad arguments raise an error naming the function and the key.
 *
 * Cost: each method is a handful of arithmetic operations and one vDSO
 * clock read (wait), allocating nothing; constructors allocate one userdata
 * of a few dozen bytes from the state's capped allocator. No finalizer.
 *
 * Threading: objects belong to their lua_State, hence to one worker: two
 * workers never share a bucket or a generator (each worker's state runs the
 * file, and so makes its own). The same seed in every worker's state gives
 * every worker the same sequence.
 */
#ifndef VD_LUA_SHAPING_H
#define VD_LUA_SHAPING_H

#include <lua.h>

/* Sets the global `shaping` of L and registers the objects' metatables.
 * May raise a memory error: call in protected mode. */
void vd_lua_shaping_open(lua_State *L);

#endif
