/*
 * lua_hook.h - one sandboxed Lua state that runs a rules file and calls its
 * hook functions on packets.
 *
 * Threading: one state belongs to one thread at a time. The thread that
 * opens and loads a state may hand it to a worker only through something
 * that orders memory (a mutex, RCU publication, thread creation); from then
 * on only that worker calls into it. vd_lua_errors and vd_lua_memory are the
 * exceptions: any thread may read them (relaxed atomics, for stats).
 *
 * Ownership: vd_lua_open returns a state the caller owns and frees with
 * vd_lua_close. Everything created inside it (the file's table, function
 * references) dies with it. The packet passed to vd_lua_call is borrowed for
 * the duration of the call only; scripts cannot keep it (see vd_lua_call).
 *
 * The sandbox (lua_sandbox.h): libraries base, string, table, math and utf8
 * only, plus `shaping` (lua_shaping.h); no io, os, package, debug or
 * coroutine; no load, loadfile, dofile, require, collectgarbage, warn or
 * string.dump; no __gc (setmetatable refuses a metatable with one). print
 * writes one vd_log line ("lua: ..."), at most VD_LUA_PRINT_PER_SECOND a
 * second per state. Globals ACCEPT, DROP, REPEAT and QUEUE hold the
 * VD_VERDICT_* numbers.
 *
 * Budgets (lua_budget.h): memory is capped per state, and every entry into
 * Lua has a budget of instructions and of wall-clock time, and stops when
 * the cancellation flag is set:
 * - each hook call: limits.instructions (1,000,000) and limits.call_ms (50);
 * - the file's run and then the loader's reads of its table, until the
 *   first hook call: limits.load_instructions (200,000,000) and
 *   limits.load_ms (10,000);
 * - lua_close (vd_lua_close): the load budget.
 * The clock (CLOCK_MONOTONIC_COARSE, a few ms of resolution) is read once
 * per entry and then every 1 to 1,000 instructions, more often when
 * instructions are slow. C functions that loop charge the budget too:
 * string.find/match/gmatch/gsub count one instruction per matcher step (an
 * item tried at a position, a character scanned by a quantifier or %b, 32
 * bytes compared by a back-reference; plain finds 64 bytes), string.rep one
 * per 8 pieces, table.concat/unpack/move/insert/remove one per element
 * touched, table.sort n log2 n. Over budget, the entry raises
 * "instruction budget exhausted", "time budget of N ms exhausted" or
 * "cancelled" (with " (in string.find)" from a C function), and keeps
 * raising at every instruction until it returns, so pcall, xpcall and their
 * handlers cannot continue.
 */
#ifndef VD_LUA_HOOK_H
#define VD_LUA_HOOK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include <verdict/packet.h>
#include <verdict/edit.h>
#include <verdict/verdict.h>

struct vd_lua; /* opaque: one sandboxed lua_State */

struct vd_lua_limits {
	size_t memory_bytes;        /* cap for this state's allocator; 0 = 64 MiB default */
	unsigned instructions;      /* budget per hook call (VM instructions and C charges); 0 = 1,000,000 */
	unsigned call_ms;           /* wall clock per hook call; 0 = 50 ms */
	uint64_t load_instructions; /* budget of a load (the file's run, the loader's reads); 0 = 200,000,000 */
	unsigned load_ms;           /* wall clock of a load; 0 = 10,000 ms */
	/* When non-zero, the load or hook call running in the state raises
	 * "cancelled" at its next check (within 1,000 instructions or one
	 * matcher charge). NULL: never. Read with relaxed loads from the
	 * state's thread; must outlive the state. */
	const atomic_int *cancel;
};

#define VD_LUA_DEFAULT_MEMORY ((size_t)64 << 20)
#define VD_LUA_DEFAULT_INSTRUCTIONS 1000000u
#define VD_LUA_DEFAULT_CALL_MS 50u
#define VD_LUA_DEFAULT_LOAD_INSTRUCTIONS 200000000u
#define VD_LUA_DEFAULT_LOAD_MS 10000u

/* Creates a sandboxed state with the limits in lim (NULL: the defaults).
 * Returns NULL with a message in err (errlen bytes) when the state cannot be
 * made, e.g. the memory cap is too small for the libraries. */
struct vd_lua *vd_lua_open(const struct vd_lua_limits *lim, char *err, size_t errlen);

/* Runs the rules file at path in the sandbox and keeps the table it returns
 * (a registry reference; loading again replaces it). Text only: a bytecode
 * file is refused. The run has the load budget, which stays armed for the
 * loader's reads of the table until the first vd_lua_call, so an endless
 * loop in the file or in a metamethod fails cleanly. Returns 0, or -1 with one
 * line in err: Lua's "FILE:LINE: message", or "FILE: message" (e.g. "FILE:
 * must return a table"). */
int vd_lua_load_file(struct vd_lua *L, const char *path, char *err, size_t errlen);

/* The raw state, for the loader that reads the returned table. The caller
 * must leave the stack as it found it and call anything that may raise an
 * error (a metamethod, an allocation) under lua_pcall. */
lua_State *vd_lua_state(struct vd_lua *L);

/* Pushes the table the file returned (nil before a successful load). */
void vd_lua_push_result(struct vd_lua *L);

/* Takes a reference to the function at the top of the stack and pops it.
 * Returns the reference (>= 0), or -1 when the value is not a function or
 * memory ran out. References live as long as the state. */
int vd_lua_ref_function(struct vd_lua *L);

/* Hot path: calls the hook ref with pkt as its one argument and returns the
 * verdict it gave: "accept", "drop", "repeat", "queue" (or ACCEPT, DROP,
 * REPEAT, QUEUE), optionally followed by
 * - for "queue", its queue number N (0-65535), required: N itself or
 *   { queue = N [, bypass = true] [, mark = M] [, delay = S] };
 * - for the others: a mark M, or { mark = M, delay = S } (the options
 *   table; queue and bypass are refused there).
 * A mark M is a number (the whole mark), { value = V, mask = M } or
 * { V, M } (only the mask's bits; mask defaults to 0xffffffff), as in rules
 * files. A delay S is in seconds (a number from 0; above 0 it holds for at
 * least 1 us) and goes into the verdict's delay_us (lua_return.h).
 *
 * On any failure (runtime error, instruction or time budget, cancellation,
 * memory cap, a return value that is not a verdict, a malformed number or
 * table after it (an unknown key, a wrong type, a queue number out of range,
 * a negative or NaN delay), a ref that is no function) it returns on_error,
 * counts the error and logs it (at most one line a second per state, naming
 * rule_name and Lua's message). *failed (may be NULL) tells whether this
 * call failed.
 *
 * pkt is borrowed for this call only. The script sees it through one pkt
 * object per state, reused for every packet: a pkt the script keeps always
 * shows the packet being judged now, and raises "packet used outside its
 * hook call" when touched between calls (e.g. from a finalizer). No
 * allocation by the binding itself (the script may allocate, e.g. by asking
 * for pkt.src); no lock; no syscall (the budget's clock is the vDSO).
 *
 * edit: the packet's edit (verdict/edit.h), whose view edit->pkt must be
 * pkt, or NULL where the packet cannot be rewritten (a write then raises
 * "pkt.ttl: packet is read-only here ..."). The pkt object's assignments
 * and set_* methods write through it (lua_rewrite.h); nothing touches it
 * unless the script writes, so a hook that does not costs a store. The
 * edits stand (vd_packet_edit_pending) when the verdict is accept, repeat
 * or queue; they are discarded (vd_packet_edit_discard) on drop and on any
 * failure. A failure that is a refused write the script did not catch
 * leaves edit->reason set (the rules layer counts a rewrite error); on
 * every other failure edit->reason is VD_EDIT_OK. */
struct vd_verdict vd_lua_call(struct vd_lua *L, int ref, const char *rule_name,
			      const struct vd_packet *pkt, struct vd_packet_edit *edit,
			      struct vd_verdict on_error, bool *failed);

/* Hook calls that failed so far. Any thread. */
uint64_t vd_lua_errors(const struct vd_lua *L);

/* Bytes the state's allocator holds now. Any thread. */
size_t vd_lua_memory(const struct vd_lua *L);

/* Frees the state and everything in it, under the load budget. NULL is a
 * no-op. */
void vd_lua_close(struct vd_lua *L);

#endif
