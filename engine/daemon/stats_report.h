/*
 * stats_report.h - verdictd's statistics as text lines: per queue, the
 * engine's counters beside the kernel's drops; per NFLOG group; the log
 * outputs; per rule. Scripts parse these lines: their fields and order are
 * a contract (metrics_table.c's text entries, in table order).
 */
#ifndef VD_STATS_REPORT_H
#define VD_STATS_REPORT_H

#include <stdio.h>

#include <verdict/rules.h>

#include "metrics_table.h"

/* Writes the snapshot's lines to out and flushes, each present only when
 * the snapshot has such rows:
 *   "stats[ LABEL]: q0 packets=… …; q1 …"
 *   "nflog[ LABEL]: g5 packets=… bytes=… …; g6 …"
 *   "logs[ LABEL]: written=N errors=M" (both outputs summed)
 *   "rules[ LABEL]: generation=N (default)=HITS NAME=HITS[(errors=E)] ..."
 * A rule's counters after hits show in parentheses when not zero:
 * NAME=HITS(rewrite_errors=R), or (errors=E,rewrite_errors=R) with both;
 * shaping adds delayed=D, loss_dropped=L, limit_dropped=M, held=H,
 * held_max=X, released=R the same way. */
void vd_stats_text(FILE *out, const struct vd_stats_snapshot *snap, const char *label);

/* The "rules[ LABEL]: ..." line of rules alone. */
void vd_rules_report(FILE *out, struct vd_rules *rules, const char *label);

#endif
