/*
 * rewrite_log.h - one line a second per worker about refused rewrites.
 *
 * A rewrite refused on every packet of a flow must not flood the log, nor
 * cost a syscall per packet: each worker keeps the second of its last line
 * and how many it held back since, and says so in the next line. Lua hooks
 * log their own errors (the refusal is a Lua error there); this covers the
 * declarative `set` and C plugins.
 */
#ifndef VD_REWRITE_LOG_H
#define VD_REWRITE_LOG_H

#include <stdint.h>

struct vd_rewrite_log {
	int64_t last_second;  /* coarse monotonic second of the last line; 0: none */
	uint64_t suppressed;  /* refusals since, not shown */
};

/* Logs "rule RULE: rewrite refused: REASON", at most once a second per l.
 * Worker thread of l only. */
void vd_rewrite_log(struct vd_rewrite_log *l, const char *rule, const char *reason);

#endif
