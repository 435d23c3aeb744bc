/*
 * verdict/hook.h - the C plugin ABI: what a shared object exports so that a
 * rule can hand it packets.
 *
 * A rule names a plugin and its evaluation function:
 *
 *     { name = "syn", proto = "tcp", dport = 80,
 *       plugin = "synguard.so", symbol = "synguard_eval", args = "rate=20,burst=40" }
 *
 * verdictd loads the file with dlopen(RTLD_NOW | RTLD_LOCAL) when the rules
 * are loaded, and refuses it (the rules file then fails to load, naming the
 * rule) unless it exports vd_hook_abi_version equal to this header's
 * VD_HOOK_ABI_VERSION: a plugin built against another layout of struct
 * vd_packet or struct vd_verdict would read garbage, so it is never called.
 *
 * Finding the file: an absolute path is used as it is; a relative one is
 * looked for in the rules file's directory, then in each directory of
 * --plugin-path, and never in the current directory (a daemon running as
 * root must not load whatever sits where it was started).
 *
 * Trust: a plugin is native code with the loading process's privileges,
 * and its constructors run as soon as it is mapped. A process running as
 * root refuses (before dlopen) a plugin file that a user other than root
 * could change: owned by another user, writable by a group other than
 * root's or by everyone, or in a directory that is (sticky ones excepted).
 *
 * Symbols, from the rule's `symbol` (S):
 * - S itself: the vd_hook_eval_fn. Required.
 * - the init and fini functions, optional: S with a trailing "_eval"
 *   replaced by "_init" / "_fini" ("synguard_eval" -> "synguard_init",
 *   "synguard_fini"); when S does not end in "_eval", S + "_init" and
 *   S + "_fini" ("tagger" -> "tagger_init", "tagger_fini").
 * Each must be defined in the plugin itself (not in a library it links).
 * Several rules may name the same plugin and symbol: each rule gets its own
 * states.
 *
 * Lifetime and threads. For each rule table that is loaded (start-up and each
 * reload) and each worker w:
 * - init(ctx, &state) runs once, on the thread that loads the table (not the
 *   worker's), before any packet reaches the new table. ctx->worker is w.
 *   What init stores in *state (NULL if there is no init) is passed to every
 *   eval of that rule on worker w and to nobody else.
 * - eval(pkt, state) runs on worker w's thread only, one packet at a time,
 *   so per-worker state needs no lock. The old table's states keep running
 *   while a new table's init runs: don't share writable globals between
 *   them without your own synchronization.
 * - fini(state) runs once per init that left a non-NULL *state, on the
 *   loading thread, after the table was replaced and no worker can still be
 *   inside its eval (or when the table fails to finish loading).
 * - dlclose follows the last fini of the table. A reload dlopens the file
 *   again, so a rebuilt plugin is picked up by a reload only if its path
 *   changed or no table held it in between (the dynamic loader keeps one copy
 *   per path while any handle is open).
 *
 * Example (rules/plugins/synguard.c is a complete one):
 *
 *     #include <errno.h>
 *     #include <stdlib.h>
 *     #include <verdict/hook.h>
 *
 *     VD_HOOK_PLUGIN_DECLARE();
 *
 *     struct count { unsigned long packets; };
 *
 *     VD_HOOK_EXPORT int count_init(const struct vd_hook_context *ctx, void **state);
 *     VD_HOOK_EXPORT struct vd_verdict count_eval(const struct vd_packet *pkt, void *state);
 *     VD_HOOK_EXPORT void count_fini(void *state);
 *
 *     int count_init(const struct vd_hook_context *ctx, void **state)
 *     {
 *             *state = calloc(1, sizeof(struct count));
 *             return *state ? 0 : -ENOMEM;
 *     }
 *
 *     struct vd_verdict count_eval(const struct vd_packet *pkt, void *state)
 *     {
 *             struct count *c = state;
 *
 *             c->packets++;
 *             return pkt->ttl < 2 ? vd_verdict_drop() : vd_verdict_accept();
 *     }
 *
 *     void count_fini(void *state)
 *     {
 *             free(state);
 *     }
 *
 * Build it with `cc -shared -fPIC -I<verdictd>/include count.c -o count.so`.
 * A plugin may use everything inline in verdict/packet.h and verdict/verdict.h
 * but must not call libverdict's functions: the daemon does not export them,
 * so such a plugin fails to load (RTLD_NOW) with an "undefined symbol" error.
 */
#ifndef VERDICT_HOOK_H
#define VERDICT_HOOK_H

#include <stdint.h>

#include <verdict/packet.h>
#include <verdict/verdict.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Raised whenever struct vd_packet, struct vd_verdict, struct
 * vd_hook_context or the function types below change in a way an already
 * built plugin would misread; plugins built for another number are refused. */
#define VD_HOOK_ABI_VERSION 1

/* The name of the variable VD_HOOK_PLUGIN_DECLARE defines, for dlsym. */
#define VD_HOOK_ABI_SYMBOL "vd_hook_abi_version"

/* Marks a plugin's function exported even when the plugin is built with
 * -fvisibility=hidden. */
#define VD_HOOK_EXPORT __attribute__((visibility("default")))

/* Declared here so that the definition below has external linkage in C++
 * too (a namespace-scope const is internal there otherwise). */
extern const uint32_t vd_hook_abi_version;

/* Put once, at file scope, in every plugin: `VD_HOOK_PLUGIN_DECLARE();`.
 * It records the ABI the plugin was compiled against. */
#define VD_HOOK_PLUGIN_DECLARE() \
	VD_HOOK_EXPORT const uint32_t vd_hook_abi_version = VD_HOOK_ABI_VERSION

/* What init learns about the place it is loaded into. The struct and its
 * strings are valid only during the init call: copy what you keep. */
struct vd_hook_context {
	unsigned worker;       /* worker index, 0 .. workers-1 */
	uint16_t queue;        /* the NFQUEUE number that worker reads (0 in --check) */
	const char *rule_name; /* the rule's name, for messages */
	const char *args;      /* the rule's `args` string, or NULL without one */
};

/* The verdict for one packet, on the worker's thread. pkt and the bytes it
 * points to are valid only during the call. Return one of verdict.h's
 * constructors, any of them: accept, drop, repeat, vd_verdict_queue(n,
 * bypass), each optionally through vd_verdict_with_mark. The verdict is
 * passed to the kernel as it is. One those constructors cannot build (an
 * unknown kind or flag bit) is a hook error: the rule's on_error verdict is
 * used instead and the error is counted in the rule's stats. Hot path: this
 * runs for every packet the rule matches, so allocate nothing, take no lock
 * and make no syscall. */
typedef struct vd_verdict (*vd_hook_eval_fn)(const struct vd_packet *pkt, void *state);

/* Builds one worker's state for one rule (see "Lifetime" above). Returns 0,
 * or a negative errno (-EINVAL for bad args, -ENOMEM, ...), which makes the
 * whole rules file fail to load; print a line to stderr naming the rule and
 * the reason, since the errno alone cannot. On failure free what you built
 * and leave *state NULL: fini is called for every non-NULL state. */
typedef int (*vd_hook_init_fn)(const struct vd_hook_context *ctx, void **state);

/* Frees what init built. Called with a non-NULL state only. */
typedef void (*vd_hook_fini_fn)(void *state);

#ifdef __cplusplus
}
#endif

#endif
