/*
 * metrics.h - a stats snapshot (metrics_table.h) for machines: the
 * Prometheus text exposition format (`verdictctl metrics`, --metrics-file)
 * and one JSON object (`verdictctl stats --json`). Both carry every entry of
 * every table, the text-only sums excepted.
 *
 * Prometheus: verdictd_<family>_<name>, "_total" on counters, "_seconds" on
 * the release errors (from nanoseconds), "_bytes" on buffer sizes; labels
 * queue="N", group="N", rule="NAME", output="json|pcap"; the daemon's own
 * counters without a family; verdictd_build_info{version="..."} 1.
 *
 * JSON: {"version": "...", <the daemon's counters>, "queues": [{"queue": N,
 * <field>: value, ...}], "groups": [{"group": N, ...}], "outputs":
 * [{"output": "json", ...}], "rules": [{"name": "...", "index": I, ...}]},
 * field names as in the tables (release errors with "_ns"), every value an
 * integer; "rules" is absent without a rules file.
 */
#ifndef VD_METRICS_H
#define VD_METRICS_H

#include <stdio.h>

#include "metrics_table.h"

void vd_metrics_prometheus(FILE *out, const struct vd_stats_snapshot *snap);

void vd_metrics_json(FILE *out, const struct vd_stats_snapshot *snap);

/* s as a Prometheus label value, quotes included, escaped. */
void vd_metrics_label_value(FILE *out, const char *s);

/* s as a JSON string, quotes included: '"', '\\' and control characters
 * escaped; other bytes as they are. */
void vd_metrics_json_string(FILE *out, const char *s);

#endif
