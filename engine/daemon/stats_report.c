/* stats_report.c - a stats snapshot as text lines, one per kind of row, each
 * written straight to the FILE (no length limit). The fields come from the
 * tables of metrics_table.c; the lines are a format scripts parse. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stats_report.h"

/* " name=value" for each text entry of t in row. */
static void text_fields(FILE *out, const struct vd_metric_table *t, const void *row)
{
	for (size_t k = 0; k < t->n; k++) {
		const struct vd_metric *m = &t->metrics[k];

		if (!(m->flags & VD_METRIC_TEXT))
			continue;
		if (m->flags & VD_METRIC_NS)
			fprintf(out, " %s_us=%.1f", m->name, (double)vd_metric_value(m, row) / 1e3);
		else
			fprintf(out, " %s=%lu", m->name, (unsigned long)vd_metric_value(m, row));
	}
}

static void line_start(FILE *out, const char *what, const char *label)
{
	fprintf(out, "%s%s%s:", what, label ? " " : "", label ? label : "");
}

/* " NAME=HITS[(k=v,...)]": the first entry, then those not zero in
 * parentheses, comma-separated, so that the line splits on spaces into one
 * word per rule. */
static void text_rule(FILE *out, const struct vd_rule_stats *st)
{
	const struct vd_metric_table *t = &vd_rule_metrics;
	char sep = '(';

	fprintf(out, " %s=%lu", st->name, (unsigned long)vd_metric_value(&t->metrics[0], st));
	for (size_t k = 1; k < t->n; k++) {
		uint64_t v = vd_metric_value(&t->metrics[k], st);

		if (!v)
			continue;
		fprintf(out, "%c%s=%lu", sep, t->metrics[k].name, (unsigned long)v);
		sep = ',';
	}
	if (sep == ',')
		fputc(')', out);
}

static void text_rules(FILE *out, const struct vd_stats_snapshot *snap, const char *label)
{
	line_start(out, "rules", label);
	fprintf(out, " generation=%lu", (unsigned long)snap->daemon.rules_generation);
	for (size_t i = 0; i < snap->nrules; i++)
		text_rule(out, &snap->rules[i]);
	fputc('\n', out);
}

/* "logs: written=N errors=M", every output summed. */
static void text_outputs(FILE *out, const struct vd_stats_snapshot *snap, const char *label)
{
	struct vd_log_output_counts sum = { 0 };

	for (size_t i = 0; i < snap->noutputs; i++) {
		sum.written += snap->outputs[i].written;
		sum.errors += snap->outputs[i].errors;
	}
	line_start(out, "logs", label);
	text_fields(out, &vd_output_metrics, &sum);
	fputc('\n', out);
}

/* "WHAT[ LABEL]: TAGn fields...; TAGm fields..." over n rows of size bytes
 * each, row i numbered by the uint16_t at number_offset. */
static void text_numbered(FILE *out, const char *what, const char *label, char tag,
			  const struct vd_metric_table *t, const void *rows, size_t n, size_t size,
			  size_t number_offset)
{
	line_start(out, what, label);
	for (size_t i = 0; i < n; i++) {
		const char *row = (const char *)rows + i * size;

		fprintf(out, "%s %c%u", i ? ";" : "", tag, *(const uint16_t *)(row + number_offset));
		text_fields(out, t, row);
	}
	fputc('\n', out);
}

/* Locked: the lines stay whole against other threads writing to out. */
void vd_stats_text(FILE *out, const struct vd_stats_snapshot *snap, const char *label)
{
	flockfile(out);
	if (snap->nqueues)
		text_numbered(out, "stats", label, 'q', &vd_queue_metrics, snap->queues,
			      snap->nqueues, sizeof(*snap->queues),
			      offsetof(struct vd_queue_row, queue));
	if (snap->ngroups)
		text_numbered(out, "nflog", label, 'g', &vd_group_metrics, snap->groups,
			      snap->ngroups, sizeof(*snap->groups),
			      offsetof(struct vd_group_row, group));
	if (snap->has_outputs)
		text_outputs(out, snap, label);
	if (snap->has_rules)
		text_rules(out, snap, label);
	fflush(out);
	funlockfile(out);
}

void vd_rules_report(FILE *out, struct vd_rules *rules, const char *label)
{
	struct vd_daemon_counters none = { 0 };
	struct vd_stats_snapshot snap;

	if (vd_stats_snapshot_take(&snap, NULL, NULL, rules, &none) < 0) {
		/* On no memory, the generation alone. */
		snap.has_rules = true;
		snap.daemon.rules_generation = vd_rules_generation(rules);
	}
	vd_stats_text(out, &snap, label);
	vd_stats_snapshot_free(&snap);
}
