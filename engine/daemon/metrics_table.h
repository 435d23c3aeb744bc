/*
 * metrics_table.h - every counter verdictd reports, described once: one
 * table per kind of row (a queue, an NFLOG group, a rule, an output, the
 * daemon itself), each entry a name, a help line, a type and where the value
 * sits in the row. The text stats lines (stats_report.c), the JSON object
 * (metrics_json.c) and the Prometheus exposition (metrics_prometheus.c) all
 * walk these tables: a counter added to a stats struct shows up in all three
 * by adding one line to its table.
 *
 * A snapshot (vd_stats_snapshot) is the data those writers read: every row,
 * read once, so that the three formats of one request agree.
 */
#ifndef VD_METRICS_TABLE_H
#define VD_METRICS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <verdict/engine.h>
#include <verdict/nflog.h>
#include <verdict/queue.h>
#include <verdict/rules.h>

#include "log_sink.h"

enum vd_metric_type {
	VD_METRIC_COUNTER, /* only grows (Prometheus: name ends in _total) */
	VD_METRIC_GAUGE,   /* a level now */
};

enum vd_metric_flag {
	VD_METRIC_TEXT = 1,      /* in the text stats line (its order is the table's) */
	VD_METRIC_TEXT_ONLY = 2, /* only in the text line (a sum of other entries) */
	VD_METRIC_NS = 4,        /* nanoseconds: text "_us" with one decimal, JSON "_ns",
				  * Prometheus "_seconds" */
	VD_METRIC_BYTES = 8,     /* Prometheus name gets "_bytes" */
};

/* One counter: a uint64_t at offset in its row. name is the text and JSON
 * key and the stem of the Prometheus name. */
struct vd_metric {
	const char *name;
	const char *help;
	enum vd_metric_type type;
	unsigned flags;
	size_t offset;
};

struct vd_metric_table {
	const char *family; /* Prometheus: verdictd_<family>_<name>; "" for none */
	const char *label;  /* the row's label name ("queue"); NULL: one row, no label */
	const struct vd_metric *metrics;
	size_t n;
};

/* A queue's row: the engine's counters, the kernel's drops beside them. */
struct vd_queue_row {
	uint16_t queue;
	struct vd_queue_stats s;
	uint64_t kernel_queue_dropped, kernel_user_dropped;
	uint64_t fail_open; /* the daemon's kernel watch (kernel_watch.h); 0 without one */
	uint64_t errors; /* recv + send + kernel errors + invalid verdicts: the text line's */
};

struct vd_group_row {
	uint16_t group;
	struct vd_nflog_stats s;
};

/* One log output's row is its struct vd_log_output_counts (log_sink.h). */

/* The daemon's own counters, kept by its main thread. */
struct vd_daemon_counters {
	uint64_t reloads;          /* reloads that loaded (SIGHUP or verdictctl) */
	uint64_t reload_errors;    /* reloads refused: the old rules stayed */
	uint64_t last_reload_success; /* 1: the last load (start-up or reload) loaded */
	uint64_t last_reload_time_seconds; /* when it ended, Unix time; 0: none */
	uint64_t rules_generation; /* loads so far (1 after start-up); 0: no rules */
	uint64_t metrics_file_errors; /* --metrics-file rewrites that failed */
	uint64_t offload_counter_errors; /* reads of offloaded rules' kernel counters
					  * that failed (firewall_offload.h) */
};

extern const struct vd_metric_table vd_queue_metrics, vd_group_metrics, vd_rule_metrics,
	vd_output_metrics, vd_daemon_metrics;

/* The value of m in row. */
static inline uint64_t vd_metric_value(const struct vd_metric *m, const void *row)
{
	return *(const uint64_t *)((const char *)row + m->offset);
}

/* Queue worker i's row: its counters and the kernel's for its queue (zero
 * when it is not bound). Reads a /proc file: not for the hot path. */
void vd_queue_row_read(const struct vd_engine *e, size_t i, struct vd_queue_row *row);

/* Group worker i's row. */
void vd_group_row_read(const struct vd_engine *e, size_t i, struct vd_group_row *row);

/* Everything one report shows. Owned by the caller: vd_stats_snapshot_free. */
struct vd_stats_snapshot {
	struct vd_queue_row *queues;
	size_t nqueues;
	struct vd_group_row *groups;
	size_t ngroups;
	bool has_rules;              /* a rules file is in use */
	struct vd_rule_stats *rules; /* [0] is the default verdict */
	size_t nrules;
	bool has_outputs;            /* --log-json or --log-pcap */
	struct vd_log_output_counts outputs[VD_LOG_OUTPUTS];
	size_t noutputs;
	struct vd_daemon_counters daemon;
};

/* Reads every row of e (may be NULL), sink (NULL: no outputs) and rules
 * (NULL: no rule rows), and copies counters (rules_generation is then the
 * rules' own). Returns 0, or -1 with errno
 * ENOMEM (snap is then empty and still freeable). Main thread (it reads the
 * engine's and the rules' counters, which any thread may). */
int vd_stats_snapshot_take(struct vd_stats_snapshot *snap, const struct vd_engine *e,
			   const struct vd_log_sink *sink, struct vd_rules *rules,
			   const struct vd_daemon_counters *counters);

void vd_stats_snapshot_free(struct vd_stats_snapshot *snap);

#endif
