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
 * are loaded, and reads the hook ABI the plugin was built for from its
 * vd_hook_abi_version:
 * - 2 (this header's VD_HOOK_ABI_VERSION): eval receives the packet's edit
 *   and may rewrite the packet (see "Rewriting" below);
 * - 1 (before rewriting existed): still loaded, and its eval is called with
 *   version 1's signature, eval(pkt, state): struct vd_packet, struct
 *   vd_verdict and struct vd_hook_context only grew at their ends since;
 * - anything else, or no such symbol, is refused (the rules file then fails
 *   to load, naming the rule and the version): a plugin built against
 *   another layout would read garbage, so it is never called.
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
 * - eval(pkt, edit, state) runs on worker w's thread only, one packet at a time,
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
 *     VD_HOOK_EVAL(count_eval);
 *     VD_HOOK_EXPORT void count_fini(void *state);
 *
 *     int count_init(const struct vd_hook_context *ctx, void **state)
 *     {
 *             *state = calloc(1, sizeof(struct count));
 *             return *state ? 0 : -ENOMEM;
 *     }
 *
 *     struct vd_verdict count_eval(const struct vd_packet *pkt,
 *                                  struct vd_packet_edit *edit, void *state)
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
 *
 * Rewriting (hook ABI 2). edit is the packet's editor (verdict/edit.h) over
 * pkt, which is edit->pkt: call the vd_packet_edit_* functions on it, and
 * pkt's fields follow each edit (read pkt->ttl after
 * vd_packet_edit_set_ttl and you see the new TTL). Every length and checksum
 * is kept right. edit is NULL where the packet cannot be rewritten (a log
 * group's copy, --check, a caller that does not rewrite): check before
 * using it. The edits go to the kernel with a verdict of accept, repeat or
 * queue; they are discarded when the verdict is drop or not one verdict.h
 * builds. An edit call that is refused returns a negative errno, sets
 * edit->reason and leaves the packet as it was; the plugin may carry on
 * (the other edits stand) or give up with `return vd_hook_error();`: the
 * rule's on_error verdict is used, the edits are discarded and, edit->reason
 * being set, the rule counts a rewrite error (rewrite_errors) rather than a
 * hook error. Example, a payload patch (rules/plugins/patch.c is a complete
 * one):
 *
 *     VD_HOOK_EVAL(patch_eval);
 *
 *     struct vd_verdict patch_eval(const struct vd_packet *pkt,
 *                                  struct vd_packet_edit *edit, void *state)
 *     {
 *             (void)state;
 *             if (edit && pkt->payload_len >= 4 && memcmp(pkt->payload, "PING", 4) == 0 &&
 *                 vd_packet_edit_replace_payload(edit, 0, 4, (const uint8_t *)"PONG", 4) < 0)
 *                     return vd_hook_error();
 *             return vd_verdict_accept();
 *     }
 *
 * What a plugin may call: everything inline in verdict/packet.h,
 * verdict/verdict.h and verdict/edit.h, and the functions of verdict/edit.h
 * (vd_packet_edit_init ... vd_packet_edit_reason_str), which verdictd
 * exports to plugins and nothing else of libverdict: a plugin that calls any
 * other libverdict function fails to load (RTLD_NOW) with an "undefined
 * symbol" error. (A program that embeds libverdict.so exports them through
 * the library.)
 *
 * Moving a version 1 plugin to version 2: add the edit parameter to eval
 * and rebuild. A version 1 binary keeps working as it is, but its source
 * rebuilt against this header declares version 2 and would receive edit
 * where it expects state: declare eval with VD_HOOK_EVAL(name), which makes
 * the compiler refuse a definition with the old signature.
 */
#ifndef VERDICT_HOOK_H
#define VERDICT_HOOK_H

#include <stdint.h>

#include <verdict/edit.h>
#include <verdict/packet.h>
#include <verdict/verdict.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Raised whenever struct vd_packet, struct vd_verdict, struct
 * vd_hook_context or the function types below change in a way an already
 * built plugin would misread. 2: eval receives the packet's edit. Plugins
 * built for 1 are still loaded (and called as version 1 called them); any
 * other number is refused. */
#define VD_HOOK_ABI_VERSION 2

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

/* The verdict for one packet, on the worker's thread. pkt, edit and the
 * bytes they point to are valid only during the call; edit (NULL when the
 * packet cannot be rewritten) is pkt's editor, see "Rewriting" above.
 * Return one of verdict.h's constructors, any of them: accept, drop,
 * repeat, vd_verdict_queue(n, bypass), vd_verdict_reject(with), each
 * optionally through vd_verdict_with_mark, and accept, drop or reject
 * optionally through vd_verdict_connection (decide the rest of the
 * connection in the kernel; reject and connection verdicts need verdictd's
 * generated kernel rules and discard the edits). The verdict is passed to
 * the kernel as it is, with the edited packet when edits are pending. One those constructors cannot
 * build (an unknown kind or flag bit, vd_hook_error()) is a hook error: the
 * rule's on_error verdict is used instead, the edits are discarded and the
 * error is counted in the rule's stats. Hot path: this runs for every
 * packet the rule matches, so allocate nothing, take no lock and make no
 * syscall. */
typedef struct vd_verdict (*vd_hook_eval_fn)(const struct vd_packet *pkt,
					     struct vd_packet_edit *edit, void *state);

/* Declares the exported eval function name with version 2's signature, so
 * that a definition with another one does not compile. */
#define VD_HOOK_EVAL(name)                                                       \
	VD_HOOK_EXPORT struct vd_verdict name(const struct vd_packet *pkt,      \
					      struct vd_packet_edit *edit, void *state)

/* Hook ABI 1's verdict: struct vd_verdict before delay_us was added. A
 * different size is a different calling convention, so an ABI 1 plugin's
 * result is read as this and converted (no delay). */
struct vd_verdict_v1 {
	uint8_t kind, flags;
	uint16_t queue;
	uint32_t mark, mark_mask;
};

/* Hook ABI 1's eval, for plugins built before rewriting: still called. */
typedef struct vd_verdict_v1 (*vd_hook_eval_v1_fn)(const struct vd_packet *pkt, void *state);

/* What eval returns when it cannot give a verdict, e.g. after a refused
 * edit: no kind the kernel knows, so the rule's on_error verdict is used. */
static inline struct vd_verdict vd_hook_error(void)
{
	return (struct vd_verdict){ .kind = 0xff };
}

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
