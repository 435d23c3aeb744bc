/*
 * metrics_json.c - a stats snapshot as one JSON object (metrics.h), from the
 * tables of metrics_table.c.
 */
#include <stdio.h>

#include <verdict/libverdict.h>

#include "metrics.h"

void vd_metrics_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* ,"name":value for each entry of t (but text-only sums) in row. */
static void json_fields(FILE *out, const struct vd_metric_table *t, const void *row)
{
	for (size_t k = 0; k < t->n; k++) {
		const struct vd_metric *m = &t->metrics[k];

		if (m->flags & VD_METRIC_TEXT_ONLY)
			continue;
		fprintf(out, ",\"%s%s\":%llu", m->name, (m->flags & VD_METRIC_NS) ? "_ns" : "",
			(unsigned long long)vd_metric_value(m, row));
	}
}

/* Writes what names a row ("queue":3) inside its object. */
typedef void (*row_key)(FILE *out, const void *row);

/* ,"key":[{ROW KEY, FIELDS}, ...] over n rows of size bytes each. */
static void json_rows(FILE *out, const char *key, const struct vd_metric_table *t,
		      const void *rows, size_t n, size_t size, row_key name)
{
	fprintf(out, ",\"%s\":[", key);
	for (size_t i = 0; i < n; i++) {
		const void *row = (const char *)rows + i * size;

		fputs(i ? ",{" : "{", out);
		name(out, row);
		json_fields(out, t, row);
		fputc('}', out);
	}
	fputc(']', out);
}

static void queue_key(FILE *out, const void *row)
{
	fprintf(out, "\"queue\":%u", ((const struct vd_queue_row *)row)->queue);
}

static void group_key(FILE *out, const void *row)
{
	fprintf(out, "\"group\":%u", ((const struct vd_group_row *)row)->group);
}

static void output_key(FILE *out, const void *row)
{
	fputs("\"output\":", out);
	vd_metrics_json_string(out, ((const struct vd_log_output_counts *)row)->output);
}

static void rule_key(FILE *out, const void *row)
{
	const struct vd_rule_stats *r = row;

	fputs("\"name\":", out);
	vd_metrics_json_string(out, r->name);
	fprintf(out, ",\"index\":%u", r->index);
}

void vd_metrics_json(FILE *out, const struct vd_stats_snapshot *snap)
{
	fputs("{\"version\":", out);
	vd_metrics_json_string(out, VD_VERSION_STRING);
	json_fields(out, &vd_daemon_metrics, &snap->daemon);
	json_rows(out, "queues", &vd_queue_metrics, snap->queues, snap->nqueues,
		  sizeof(*snap->queues), queue_key);
	json_rows(out, "groups", &vd_group_metrics, snap->groups, snap->ngroups,
		  sizeof(*snap->groups), group_key);
	json_rows(out, "outputs", &vd_output_metrics, snap->outputs, snap->noutputs,
		  sizeof(*snap->outputs), output_key);
	if (snap->has_rules)
		json_rows(out, "rules", &vd_rule_metrics, snap->rules, snap->nrules,
			  sizeof(*snap->rules), rule_key);
	fputs("}\n", out);
}
