/* rules_internal.h - the live rule table's state (struct vd_rules), shared by
 * rules.c (publication, reload, counting) and rules_stats.c (reading the
 * counters). Private to engine/lib/rules. */
#ifndef VD_RULES_INTERNAL_H
#define VD_RULES_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <verdict/rules.h>

#include "name_table.h"
#include "rewrite_log.h"
#include "ruleset.h"

/* Counter banks grow by chunks of CHUNK_SLOTS counters (calloc'ed: not
 * resident until counted on), up to MAX_CHUNKS: the names of two tables at
 * once (the live one and the one being loaded). */
#define CHUNK_BITS 16
#define CHUNK_SLOTS (1u << CHUNK_BITS)
#define MAX_CHUNKS 1024u

/* The counters every rule (slot) has on every worker. */
enum rule_counter {
	COUNTER_HITS,
	COUNTER_ERRORS,         /* hook errors */
	COUNTER_REWRITE_ERRORS, /* refused rewrites */
	COUNTER_DELAYED,        /* shaping gave a delay */
	COUNTER_LOSS_DROPPED,   /* shaping: dropped by loss */
	COUNTER_LIMIT_DROPPED,  /* shaping: dropped by limit */
	COUNTER_RELEASED,       /* shaping: delayed packets whose release time passed */
	COUNTER_HELD_MAX,       /* shaping: the most held at once (a peak, not a sum) */
	COUNTER_LAST_RELEASE,   /* shaping: the latest release time given (ns, a time) */
	COUNTER_COUNT
};

struct vd_rules {
	struct vd_ruleset *current;   /* RCU-protected */
	struct vd_rules_config cfg;
	char *path;
	uint16_t *queues;
	uint16_t *log_groups;
	pthread_mutex_t reload_lock;  /* serializes reloads; readers never take it */
	/* Held only while a reload switches tables and names slots, never while
	 * it loads: stats read names under it and answer during a long load. */
	pthread_mutex_t table_lock;
	/* vd_rules_reload_cancel: give up the load in progress. The Lua states
	 * of a table keep the flag they were loaded with for life, so the live
	 * table and a load in progress use different ones: cancelling a load
	 * must not fail the live table's hooks. */
	atomic_int cancel[2];
	unsigned live_cancel;         /* the live table's flag; loads use the other */
	atomic_int loading;           /* a reload is in progress */
	unsigned generation;
	/* Reload side only (under reload_lock, or before the table exists): */
	struct vd_name_table slot_of; /* the live table's names -> slots */
	unsigned nslots;              /* slots handed out so far (0 included) */
	unsigned *slot_gen;           /* per slot: last generation that used it */
	unsigned *free_slots;         /* slots given back, to reuse */
	size_t nfree;
	/* Per counter: [worker][chunk][slot % CHUNK_SLOTS]. */
	uint64_t ***bank[COUNTER_COUNT];
	struct vd_rewrite_log *rewrite_log; /* per worker */
};

static inline uint64_t *counter_of(uint64_t ***bank, unsigned w, unsigned slot)
{
	return &bank[w][slot >> CHUNK_BITS][slot & (CHUNK_SLOTS - 1)];
}

#endif
