/*
 * stats_report.h - verdictd's statistics line: per queue, the engine's
 * counters beside the kernel's drops.
 */
#ifndef VD_STATS_REPORT_H
#define VD_STATS_REPORT_H

#include <stdio.h>

#include <verdict/engine.h>

struct vd_kernel_watch;

/* Writes one line, "stats[ LABEL]: q0 packets=… …; q1 …", to out and flushes.
 * watch (one per queue worker, or NULL) adds the daemon's fail_open count. */
void vd_stats_report(FILE *out, const struct vd_engine *e, const struct vd_kernel_watch *watch,
		     const char *label);

struct vd_rules;

/* Writes "rules[ LABEL]: generation=N (default)=HITS NAME=HITS[(errors=E)] ..."
 * to out and flushes; a rule with refused rewrites shows
 * NAME=HITS(rewrite_errors=R), or (errors=E,rewrite_errors=R) with both;
 * shaping adds delayed=D, loss_dropped=L, limit_dropped=M the same way. */
void vd_rules_report(FILE *out, struct vd_rules *rules, const char *label);

#endif
