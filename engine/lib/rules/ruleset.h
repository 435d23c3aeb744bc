/*
 * ruleset.h - a compiled, immutable rule table and its per-worker hooks.
 *
 * Built on the reloading thread (vd_ruleset_load), then only read: by any
 * number of workers at once, worker w touching only workers[w] (its Lua
 * state and plugin states). Freed after an RCU grace period, when no worker
 * can still hold it.
 */
#ifndef VD_RULESET_H
#define VD_RULESET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <verdict/packet.h>
#include <verdict/verdict.h>

#include "lua_hook.h"
#include "plugin.h"
#include "rule.h"
#include "rule_index.h"

struct vd_ruleset_options {
	unsigned nworkers;        /* per-worker hook states to build (0: none, for --check) */
	const uint16_t *queues;   /* queue of each worker, for plugin init; may be NULL */
	struct vd_lua_limits lua; /* per state */
	const char *plugin_path;  /* extra plugin directories, colon-separated; may be NULL */
	const char *list;         /* the file's list to compile: "rules" (NULL) or "logs" */
	unsigned nlog_workers;    /* hook states for the `logs` list (log group threads) */
	const uint16_t *log_groups; /* group of each log worker, for plugin init; may be NULL */
	uint32_t kernel_mark_mask; /* the generated rules' mark field, in which a
				    * rule's mark may not set a bit; 0: VD_KMARK_DEFAULT_MASK */
	uint32_t hold_max;        /* most packets a worker's queue holds (shaping
				   * rules track that many release times);
				   * 0: VD_QUEUE_DEFAULT_HOLD_MAX */
};

struct vd_ruleset_worker {
	struct vd_lua *lua;       /* NULL when the table has no Lua rule */
	int *lua_refs;            /* per rule */
	void **plugin_state;      /* per rule, from the plugin's init */
	struct vd_rule_shape_state *shape; /* per rule; zeroed for rules without shaping */
};

struct vd_ruleset {
	char *path;
	struct vd_rule_file file;
	struct vd_rule_index dims[VD_DIM_COUNT];
	struct vd_plugin_hook *hooks; /* per rule; zeroed for non-plugin rules */
	unsigned *slots;          /* per rule: its counter slot (set by the owner) */
	unsigned nworkers;
	struct vd_ruleset_worker *workers;
	const char *list;         /* "rules", or "logs" for the child below */
	struct vd_ruleset *logs;  /* the file's `logs` list (possibly empty); NULL in a child */
};

/* Loads and compiles path: its `rules`, and its `logs` into rs->logs. NULL
 * with a one-line message in err. */
struct vd_ruleset *vd_ruleset_load(const char *path, const struct vd_ruleset_options *opt,
				   char *err, size_t errlen);

/* The verdict for pkt on worker w (< nworkers): the first matching rule's
 * action, or the default. *rule is the matching rule's index (-1: default);
 * *hook_failed tells that a hook or a rewrite erred and its on_error verdict
 * was used (a refused rewrite leaves edit->reason set, which tells the two
 * apart). edit: the packet's edit (vd_packet_edit_prepare'd over pkt), or
 * NULL where packets cannot be rewritten (log groups, --check); hooks and
 * `set` write through it, and a verdict that drops or fails discards it.
 * Hot path: no allocation, no lock, no syscall (hooks aside). */
struct vd_verdict vd_ruleset_eval(const struct vd_ruleset *rs, unsigned w,
				  const struct vd_packet *pkt, struct vd_packet_edit *edit,
				  int *rule, bool *hook_failed);

/* vd_ruleset_eval, also telling what the rule's shaping did and what it
 * holds (*shaped: outcome VD_SHAPE_NOTHING, nothing else set, when the rule
 * has none). */
struct vd_verdict vd_ruleset_eval_shaped(const struct vd_ruleset *rs, unsigned w,
					 const struct vd_packet *pkt, struct vd_packet_edit *edit,
					 int *rule, bool *hook_failed, struct vd_shape_report *shaped);

/* Writes a human summary of the compiled table (for --check). kernel_rules:
 * the caller runs verdictd's generated kernel rules, which carry out reject
 * and bypass (no warning that they need them). */
void vd_ruleset_summary(const struct vd_ruleset *rs, bool kernel_rules, FILE *out);

/* Runs plugin fini, closes Lua states, frees. NULL is a no-op. */
void vd_ruleset_free(struct vd_ruleset *rs);

/* For tests (rules.c): the counter slots made so far, the default's
 * included; a slot given back and reused counts once. */
struct vd_rules;
unsigned vd_rules_slot_count(const struct vd_rules *r);

#endif
