/*
 * metrics_prometheus.c - a stats snapshot in the Prometheus text exposition
 * format (metrics.h), from the tables of metrics_table.c: per entry one
 * "# HELP" and one "# TYPE" line, then one sample per row.
 */
#include <stdio.h>

#include <verdict/libverdict.h>

#include "metrics.h"

/* A label value between double quotes: backslash, double quote and newline
 * escaped, as the format asks; any other byte as it is (UTF-8 stays). */
void vd_metrics_label_value(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

/* verdictd_[FAMILY_]NAME[_seconds|_bytes][_total] */
static void metric_name(FILE *out, const struct vd_metric_table *t, const struct vd_metric *m)
{
	fprintf(out, "verdictd_%s%s%s%s%s", t->family, *t->family ? "_" : "", m->name,
		(m->flags & VD_METRIC_NS) ? "_seconds" : (m->flags & VD_METRIC_BYTES) ? "_bytes" : "",
		m->type == VD_METRIC_COUNTER ? "_total" : "");
}

/* The label value of row i of a table's rows. */
typedef void (*row_label)(FILE *out, const void *row);

static void sample_value(FILE *out, const struct vd_metric *m, const void *row)
{
	uint64_t v = vd_metric_value(m, row);

	if (m->flags & VD_METRIC_NS)
		fprintf(out, " %.9g\n", (double)v / 1e9);
	else
		fprintf(out, " %llu\n", (unsigned long long)v);
}

/* Every entry of t (but text-only sums) over n rows of size bytes each. */
static void family_write(FILE *out, const struct vd_metric_table *t, const void *rows, size_t n,
			 size_t size, row_label label)
{
	if (n == 0)
		return;
	for (size_t k = 0; k < t->n; k++) {
		const struct vd_metric *m = &t->metrics[k];

		if (m->flags & VD_METRIC_TEXT_ONLY)
			continue;
		fputs("# HELP ", out);
		metric_name(out, t, m);
		fprintf(out, " %s\n# TYPE ", m->help);
		metric_name(out, t, m);
		fprintf(out, " %s\n", m->type == VD_METRIC_COUNTER ? "counter" : "gauge");
		for (size_t i = 0; i < n; i++) {
			const void *row = (const char *)rows + i * size;

			metric_name(out, t, m);
			if (t->label) {
				fprintf(out, "{%s=", t->label);
				label(out, row);
				fputc('}', out);
			}
			sample_value(out, m, row);
		}
	}
}

static void queue_label(FILE *out, const void *row)
{
	fprintf(out, "\"%u\"", ((const struct vd_queue_row *)row)->queue);
}

static void group_label(FILE *out, const void *row)
{
	fprintf(out, "\"%u\"", ((const struct vd_group_row *)row)->group);
}

static void rule_label(FILE *out, const void *row)
{
	vd_metrics_label_value(out, ((const struct vd_rule_stats *)row)->name);
}

static void output_label(FILE *out, const void *row)
{
	vd_metrics_label_value(out, ((const struct vd_log_output_counts *)row)->output);
}

void vd_metrics_prometheus(FILE *out, const struct vd_stats_snapshot *snap)
{
	fputs("# HELP verdictd_build_info The running verdictd's version.\n"
	      "# TYPE verdictd_build_info gauge\n"
	      "verdictd_build_info{version=", out);
	vd_metrics_label_value(out, VD_VERSION_STRING);
	fputs("} 1\n", out);
	family_write(out, &vd_queue_metrics, snap->queues, snap->nqueues, sizeof(*snap->queues),
		     queue_label);
	family_write(out, &vd_group_metrics, snap->groups, snap->ngroups, sizeof(*snap->groups),
		     group_label);
	family_write(out, &vd_rule_metrics, snap->rules, snap->nrules, sizeof(*snap->rules),
		     rule_label);
	family_write(out, &vd_output_metrics, snap->outputs, snap->noutputs,
		     sizeof(*snap->outputs), output_label);
	family_write(out, &vd_daemon_metrics, &snap->daemon, 1, sizeof(snap->daemon), NULL);
}
