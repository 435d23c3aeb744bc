/*
 * verdict/rules.h - rule tables: load a rules file, evaluate packets against
 * it from many workers, and replace it while they run.
 *
 * A rules file is Lua returning a table (see README "Rules"). It compiles
 * into an immutable table whose declarative matches run in C; rules may
 * instead call a Lua function (one sandboxed lua_State per worker) or a C
 * plugin (verdict/hook.h). vd_rules_reload builds a new table beside the old
 * one, publishes it with rcu_xchg_pointer and frees the old one after a
 * liburcu QSBR grace period: no evaluation is blocked, none sees a half-built
 * table, and a file that fails to load leaves the old table in place.
 *
 * Threading:
 * - vd_rules_eval (and _match, _log, vd_rules_default_verdict): worker w only
 *   (one thread per worker index), from a thread registered as a reader and
 *   online, which reports quiescent states regularly. The engine's workers
 *   do all of that per batch; any other thread calls
 *   vd_rules_reader_register first and vd_rules_reader_quiescent between
 *   evaluations (e.g. per packet of a replayed capture).
 * - vd_rules_reload: one thread at a time (reloads are serialized by a mutex
 *   no reader takes). It may run on a thread of its own: vd_rules_stats,
 *   vd_rules_generation and vd_rules_reload_cancel do not wait for a load
 *   in progress (stats wait at most for the switch to the new table).
 * - vd_rules_close: when no reload runs any more.
 */
#ifndef VERDICT_RULES_H
#define VERDICT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <verdict/abi.h>
#include <verdict/edit.h>
#include <verdict/packet.h>
#include <verdict/verdict.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vd_rules_config {
	const char *path;          /* the rules file */
	unsigned nworkers;         /* evaluating threads: worker indexes 0..nworkers-1 */
	const uint16_t *queues;    /* queue of each worker, passed to plugin init; may be NULL */
	size_t lua_memory;         /* bytes per Lua state; 0: 64 MiB */
	unsigned lua_instructions; /* instruction budget per hook call; 0: 1,000,000 */
	const char *plugin_path;   /* extra plugin directories, colon-separated; may be NULL */
	unsigned nlog_workers;     /* threads evaluating the file's `logs` list
				    * (vd_rules_eval_log): worker indexes 0..n-1 */
	const uint16_t *log_groups; /* log group of each, passed to plugin init; may be NULL */
	/* --- added in 0.2 --- */
	unsigned lua_call_ms;      /* wall clock per hook call; 0: 50 ms */
	uint64_t lua_load_instructions; /* budget of loading the file; 0: 200,000,000 */
	unsigned lua_load_ms;      /* wall clock of loading the file; 0: 10,000 ms */
	/* --- added in 0.4 --- */
	uint32_t kernel_mark_mask; /* the mark field of verdictd's generated kernel
				    * rules (verdict/kernel_mark.h), in which no
				    * rule's mark may set a bit (the file fails
				    * to load); 0: VD_KMARK_DEFAULT_MASK */
	uint32_t hold_max;         /* most packets each worker's queue holds
				    * (vd_queue_config.hold_max): how many release
				    * times a shaping rule keeps per worker for its
				    * held count; 0: VD_QUEUE_DEFAULT_HOLD_MAX */
};

struct vd_rules;

/* Loads cfg->path. NULL with errno and a one-line message in errbuf
 * (VD_ERRBUF_SIZE bytes) naming the file, the rule and the key. */
struct vd_rules *vd_rules_open_sized(const struct vd_rules_config *cfg, size_t cfg_size,
				     char *errbuf);
#define vd_rules_open(cfg, errbuf) vd_rules_open_sized((cfg), sizeof(*(cfg)), (errbuf))

/* Loads the file again and swaps it in. Returns 0; -1 with errbuf filled
 * when the new file does not load (the old table stays live). Blocks for one
 * grace period (every worker's current batch) before freeing the old table. */
int vd_rules_reload(struct vd_rules *r, char *errbuf);

/* Asks the reload in progress, on another thread, to give up: its load stops
 * at the next point that checks (between Lua states; inside a Lua run where
 * the hook layer checks vd_lua_limits.cancel), and vd_rules_reload returns -1
 * with errno ECANCELED and "FILE: reload cancelled" in errbuf; the old table
 * stays. A reload that starts after this call is not affected. Any thread;
 * no lock, no allocation. Returns 1 when a reload was in progress, else 0. */
int vd_rules_reload_cancel(struct vd_rules *r);

/* The verdict for pkt on worker w. Hot path: no allocation, no lock. */
struct vd_verdict vd_rules_eval(struct vd_rules *r, unsigned w, const struct vd_packet *pkt);

/* What decided a packet, for logging. */
struct vd_rules_match {
	const char *rule;  /* the rule's name; NULL: the default decided. Valid
			    * until the worker's next quiescent state (the end
			    * of its batch), when a reload may free it */
	bool log;          /* the rule says log = true (or log_default does) */
	bool hook_failed;  /* its hook failed: on_error decided */
	/* --- added in 0.3, written by vd_rules_eval_edit only --- */
	bool rewrite_failed; /* a rewrite was refused: on_error decided */
};

/* vd_rules_eval, also telling which rule decided (m may be NULL). */
struct vd_verdict vd_rules_eval_match(struct vd_rules *r, unsigned w, const struct vd_packet *pkt,
				      struct vd_rules_match *m);

/* vd_rules_eval_match for a packet that may be rewritten: edit was
 * vd_packet_edit_prepare'd over the packet (a queue's edit callback gets
 * one ready). The matching rule's `set` and its hooks write through edit;
 * vd_packet_edit_pending(edit) then tells that the packet to send is
 * edit->buf[0, edit->len). A refused rewrite gives the rule's on_error
 * verdict (m->rewrite_failed, counted in rewrite_errors, edits discarded);
 * a drop verdict discards the edits too. Hot path, same threading. */
struct vd_verdict vd_rules_eval_edit(struct vd_rules *r, unsigned w, struct vd_packet_edit *edit,
				     struct vd_rules_match *m);

/* For a logged (NFLOG) packet, on log worker w: the file's `logs` list, first
 * match wins. Accept means write the packet, drop means leave it out; a mark
 * annotates the record. No entry matching: accept. m (may be NULL) names the
 * entry. Hot path, same threading rules as vd_rules_eval. */
struct vd_verdict vd_rules_eval_log(struct vd_rules *r, unsigned w, const struct vd_packet *pkt,
				    struct vd_rules_match *m);

/* Successful loads so far (1 after open). */
unsigned vd_rules_generation(const struct vd_rules *r);

struct vd_rule_stats {
	char name[64];
	unsigned index;      /* position in the file, 1-based; 0 for the default */
	uint64_t hits;       /* packets this rule decided, summed over workers and
			      * over reloads while a rule of that name existed */
	uint64_t errors;     /* hook errors (the rule's on_error verdict was used) */
	/* --- added in 0.3 --- */
	uint64_t rewrite_errors; /* refused rewrites (on_error was used) */
	/* --- added in 0.3, shaping keys (delay, rate, loss, limit) --- */
	uint64_t delayed;        /* verdicts of a rule with shaping keys that left
				  * with a delay (its hook's own included) */
	uint64_t loss_dropped;   /* dropped by the rule's `loss` */
	uint64_t limit_dropped;  /* dropped by the rule's `limit` (it held that many) */
	/* --- added in 0.4 --- */
	/* A shaping rule's delayed packets count as held from their verdict
	 * until their release time, then as released: what the queue does,
	 * but for the rare packet it sends early (hold_overflow, or all at
	 * stop). Summed over workers; held_max is the sum of each worker's
	 * most (the workers' peaks need not coincide). Once every release time
	 * has passed, held is 0 and released equals delayed, reloads
	 * included; before that, packets held under an earlier table count as
	 * held. */
	uint64_t held;           /* delayed packets not released yet */
	uint64_t held_max;       /* the most held at once (a table's count
				  * leaves out what an earlier one holds) */
	uint64_t released;       /* delayed packets whose release time passed */
};

/* Counters of the current table: out[0] is the default verdict, then one per
 * rule in file order. Returns how many there are (may exceed max). */
size_t vd_rules_stats_sized(struct vd_rules *r, struct vd_rule_stats *out, size_t max,
			    size_t elem_size);
#define vd_rules_stats(r, out, max) vd_rules_stats_sized((r), (out), (max), sizeof(*(out)))

/* The current table's default verdict (the file's `default`), for packets
 * no rule can be evaluated on: e.g. a queue's fallback for a packet whose
 * message could not be decoded. Same threading as vd_rules_eval. */
struct vd_verdict vd_rules_default_verdict(struct vd_rules *r);

/* Whether the current table has a rule whose verdict needs verdictd's
 * generated kernel rules: a reject, or bypass on accept, drop or reject
 * (a hook's return cannot be known ahead). Any thread, as vd_rules_delays. */
bool vd_rules_kernel_verdicts(struct vd_rules *r);

/* Whether the current table can delay packets (a rule with delay or rate):
 * for sizing the kernel queue. Any thread (it takes the lock the stats
 * take, never waits for a load); a reload may change the answer. */
bool vd_rules_delays(struct vd_rules *r);

/* The current table's `first_packets` (queue only the first N packets of
 * each connection; 0: the key is absent). The library does not act on it:
 * the kernel rules that count packets (verdictd --firewall) do. Any thread,
 * as vd_rules_delays; a reload may change the answer. */
unsigned vd_rules_first_packets(struct vd_rules *r);

/* Makes the calling thread a reader that may call vd_rules_eval (liburcu
 * QSBR registration); not needed on the engine's workers. A reader reports
 * vd_rules_reader_quiescent when it holds nothing from an evaluation (a
 * rule name from vd_rules_match), at least now and then: reloads wait for
 * it. Unregister before the thread ends. */
void vd_rules_reader_register(void);
void vd_rules_reader_quiescent(void);
void vd_rules_reader_unregister(void);

/* Loads path without workers and writes a summary of the compiled table to
 * out. Returns 0, or -1 with errbuf filled. */
int vd_rules_check(const char *path, const char *plugin_path, FILE *out, char *errbuf);

/* vd_rules_check with the settings of cfg that loading depends on (path,
 * plugin_path, the Lua limits, kernel_mark_mask); the worker counts are
 * ignored. A kernel_mark_mask other than 0 says the caller runs verdictd's
 * generated kernel rules with that field: the summary then does not warn
 * that the file's reject and bypass rules need them. Passes the caller's
 * struct size (verdict/abi.h). */
int vd_rules_check_sized(const struct vd_rules_config *cfg, size_t cfg_size, FILE *out,
			 char *errbuf);
#define vd_rules_check_config(cfg, out, errbuf)                                       \
	vd_rules_check_sized((cfg), sizeof(*(cfg)), (out), (errbuf))

/* Frees the table and the counters. No evaluation may run any more. */
void vd_rules_close(struct vd_rules *r);

#ifdef __cplusplus
}
#endif

#endif
