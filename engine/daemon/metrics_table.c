/*
 * metrics_table.c - the tables of every counter verdictd reports
 * (metrics_table.h), and the snapshot the report writers read.
 *
 * Order matters for the entries marked VD_METRIC_TEXT: it is the order of
 * the text stats lines, which scripts parse; a new counter goes before the
 * text-only sums at the end of its table.
 */
#include <errno.h>
#include <stdlib.h>

#include "metrics_table.h"

#define Q(field, type, flags, help) \
	{ #field, help, VD_METRIC_##type, flags, offsetof(struct vd_queue_row, s.field) }
#define QROW(field, type, flags, help) \
	{ #field, help, VD_METRIC_##type, flags, offsetof(struct vd_queue_row, field) }
/* A nanosecond field stem_ns, named by its stem: each format adds its unit. */
#define QNS(stem, help) \
	{ #stem, help, VD_METRIC_GAUGE, VD_METRIC_TEXT | VD_METRIC_NS, \
	  offsetof(struct vd_queue_row, s.stem##_ns) }
#define T VD_METRIC_TEXT

static const struct vd_metric queue_metrics[] = {
	Q(packets, COUNTER, T, "Packets received from the queue."),
	Q(bytes, COUNTER, 0, "Their length on the wire, in bytes."),
	Q(accepted, COUNTER, T, "Accept verdicts sent."),
	Q(dropped, COUNTER, T, "Drop verdicts sent."),
	Q(queued, COUNTER, T, "Verdicts that sent the packet to another queue."),
	Q(repeated, COUNTER, T, "Repeat verdicts sent."),
	Q(marked, COUNTER, T, "Verdicts that set a mark."),
	Q(parse_errors, COUNTER, T, "Packets whose headers did not parse."),
	Q(truncated, COUNTER, T, "Packets cut short by the copy range."),
	Q(batches, COUNTER, T, "Receive batches."),
	Q(verdict_msgs, COUNTER, T, "Verdict messages sent (one may carry many packets)."),
	QROW(kernel_queue_dropped, COUNTER, T,
	     "Packets the kernel dropped because the queue was full (maxlen)."),
	QROW(kernel_user_dropped, COUNTER, T,
	     "Packets the kernel dropped because the socket buffer was full."),
	Q(enobufs, COUNTER, T, "Receive overruns the socket reported."),
	Q(recv_errors, COUNTER, 0, "Failed receives other than overruns."),
	Q(send_errors, COUNTER, 0, "Failed verdict sends."),
	Q(kernel_errors, COUNTER, 0, "Error replies from the kernel."),
	Q(invalid_verdicts, COUNTER, 0, "Verdicts the kernel cannot take, sent as drop."),
	Q(undecodable, COUNTER, T, "Packets answered by the fallback: message not decodable."),
	Q(rewritten, COUNTER, T, "Verdicts sent with a rewritten packet."),
	Q(rewrite_refused, COUNTER, T, "Rewrites that could not be sent (sent unchanged)."),
	Q(held, GAUGE, T, "Verdicts held for a delay now."),
	Q(held_max, GAUGE, T, "The most verdicts held at once."),
	Q(released, COUNTER, T, "Held verdicts sent at their release time or at stop."),
	Q(pending, GAUGE, T, "Packets awaiting a pending verdict now."),
	Q(hold_overflow, COUNTER, T, "Verdicts that could not be held or remembered (hold-max)."),
	QNS(release_error_p50, "Median release error of held verdicts (actual minus scheduled)."),
	QNS(release_error_p99, "99th percentile release error of held verdicts."),
	QNS(release_error_max, "Largest release error of held verdicts."),
	QROW(fail_open, COUNTER, T,
	     "Packets the kernel accepted unjudged (--fail-open) for a full socket buffer."),
	Q(maxlen, GAUGE, T, "The kernel queue length now (it grows when the kernel drops)."),
	Q(rcvbuf, GAUGE, T | VD_METRIC_BYTES, "The socket receive buffer now."),
	Q(grows, COUNTER, T, "Growth steps of the queue length and receive buffer."),
	Q(rejected, COUNTER, T, "Reject verdicts (sent as drop without the generated kernel rules)."),
	Q(bypassed, COUNTER, T,
	  "Verdicts that decided the rest of their connection in the kernel (bypass)."),
	Q(stripped, COUNTER, T,
	  "Reject or bypass verdicts whose delay or edits were dropped (the kernel acts at once)."),
	QROW(errors, COUNTER, T | VD_METRIC_TEXT_ONLY,
	     "recv_errors + send_errors + kernel_errors + invalid_verdicts."),
};

#define G(field, type, flags, help) \
	{ #field, help, VD_METRIC_##type, flags, offsetof(struct vd_group_row, s.field) }

static const struct vd_metric group_metrics[] = {
	G(packets, COUNTER, T, "Packets received from the NFLOG group."),
	G(bytes, COUNTER, T, "Captured bytes."),
	G(batches, COUNTER, 0, "Receive batches."),
	G(parse_errors, COUNTER, T, "Packets whose headers did not parse."),
	G(enobufs, COUNTER, T, "Receive overruns: packets were lost."),
	G(seq_gaps, COUNTER, T, "Packets missing by sequence number."),
	G(recv_errors, COUNTER, T, "Other failed receives, undecodable messages."),
	G(rcvbuf, GAUGE, T | VD_METRIC_BYTES, "The socket receive buffer now."),
};

/* The first entry is the rule's value in the text line; the others show
 * there when they are not zero. */
#define R(field, type, help) \
	{ #field, help, VD_METRIC_##type, T, offsetof(struct vd_rule_stats, field) }

static const struct vd_metric rule_metrics[] = {
	R(hits, COUNTER, "Packets the rule decided (kept across reloads by name)."),
	R(errors, COUNTER, "Hook errors, Lua budget overruns included (on_error was used)."),
	R(rewrite_errors, COUNTER, "Rewrites refused (on_error was used)."),
	R(delayed, COUNTER, "Verdicts of a shaping rule that left with a delay."),
	R(loss_dropped, COUNTER, "Packets dropped by the rule's loss."),
	R(limit_dropped, COUNTER, "Packets dropped by the rule's limit."),
	R(held, GAUGE, "Delayed packets of the rule not released yet (per worker, summed)."),
	R(held_max, GAUGE, "The most packets held for the rule at once (each worker's, summed)."),
	R(released, COUNTER, "Delayed packets of the rule whose release time passed."),
};

#define O(field, help) \
	{ #field, help, VD_METRIC_COUNTER, T, offsetof(struct vd_log_output_counts, field) }

static const struct vd_metric output_metrics[] = {
	O(written, "Records written to the log output."),
	O(errors, "Records lost to write errors."),
};

#define D(field, type, help) \
	{ #field, help, VD_METRIC_##type, 0, offsetof(struct vd_daemon_counters, field) }

static const struct vd_metric daemon_metrics[] = {
	D(reloads, COUNTER, "Reloads of the rules file that loaded."),
	D(reload_errors, COUNTER, "Reloads refused (the old rules stayed)."),
	D(last_reload_success, GAUGE, "1 when the last load of the rules file loaded."),
	D(last_reload_time_seconds, GAUGE, "When the last load ended (Unix time)."),
	D(rules_generation, GAUGE, "Successful loads of the rules file (1 after start-up)."),
	D(metrics_file_errors, COUNTER, "Rewrites of --metrics-file that failed."),
	D(offload_counter_errors, COUNTER,
	  "Reads of offloaded rules' kernel counters that failed (their hits are then short)."),
};

#define TABLE(family, label, m) { family, label, m, sizeof(m) / sizeof(m[0]) }

const struct vd_metric_table vd_queue_metrics = TABLE("queue", "queue", queue_metrics);
const struct vd_metric_table vd_group_metrics = TABLE("nflog", "group", group_metrics);
const struct vd_metric_table vd_rule_metrics = TABLE("rule", "rule", rule_metrics);
const struct vd_metric_table vd_output_metrics = TABLE("log", "output", output_metrics);
const struct vd_metric_table vd_daemon_metrics = TABLE("", NULL, daemon_metrics);

void vd_queue_row_read(const struct vd_engine *e, size_t i, struct vd_queue_row *row)
{
	struct vd_kernel_queue_stats k = { 0 };

	*row = (struct vd_queue_row){ 0 };
	row->queue = vd_engine_stats(e, i, &row->s);
	/* Absent once unbound: the kernel's counters read as zero then. */
	vd_queue_kernel_stats(row->queue, &k);
	row->kernel_queue_dropped = k.queue_dropped;
	row->kernel_user_dropped = k.user_dropped;
	row->errors = row->s.recv_errors + row->s.send_errors + row->s.kernel_errors +
		      row->s.invalid_verdicts;
}

void vd_group_row_read(const struct vd_engine *e, size_t i, struct vd_group_row *row)
{
	*row = (struct vd_group_row){ 0 };
	row->group = vd_engine_group_stats(e, i, &row->s);
}

int vd_stats_snapshot_take(struct vd_stats_snapshot *snap, const struct vd_engine *e,
			   const struct vd_log_sink *sink, struct vd_rules *rules,
			   const struct vd_daemon_counters *counters)
{
	size_t nq = e ? vd_engine_nqueues(e) : 0, ng = e ? vd_engine_ngroups(e) : 0;
	size_t nr = rules ? vd_rules_stats(rules, NULL, 0) : 0;

	*snap = (struct vd_stats_snapshot){ .daemon = *counters };
	snap->queues = calloc(nq ? nq : 1, sizeof(*snap->queues));
	snap->groups = calloc(ng ? ng : 1, sizeof(*snap->groups));
	snap->rules = calloc(nr ? nr : 1, sizeof(*snap->rules));
	if (!snap->queues || !snap->groups || !snap->rules) {
		vd_stats_snapshot_free(snap);
		errno = ENOMEM;
		return -1;
	}
	for (snap->nqueues = 0; snap->nqueues < nq; snap->nqueues++)
		vd_queue_row_read(e, snap->nqueues, &snap->queues[snap->nqueues]);
	for (snap->ngroups = 0; snap->ngroups < ng; snap->ngroups++)
		vd_group_row_read(e, snap->ngroups, &snap->groups[snap->ngroups]);
	snap->has_rules = rules != NULL;
	snap->has_outputs = sink != NULL;
	if (rules) {
		size_t now = vd_rules_stats(rules, snap->rules, nr); /* a reload may have run */

		snap->nrules = now < nr ? now : nr;
		snap->daemon.rules_generation = vd_rules_generation(rules);
	}
	if (sink)
		snap->noutputs = vd_log_sink_outputs(sink, snap->outputs);
	return 0;
}

void vd_stats_snapshot_free(struct vd_stats_snapshot *snap)
{
	free(snap->queues);
	free(snap->groups);
	free(snap->rules);
	*snap = (struct vd_stats_snapshot){ 0 };
}
