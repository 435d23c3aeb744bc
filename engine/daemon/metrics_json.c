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

void vd_metrics_json(FILE *out, const struct vd_stats_snapshot *snap)
{
	const struct vd_metric_table *daemon = &vd_daemon_metrics;

	fputs("{\"version\":", out);
	vd_metrics_json_string(out, VD_VERSION_STRING);
	json_fields(out, daemon, &snap->daemon);
	fputs(",\"queues\":[", out);
	for (size_t i = 0; i < snap->nqueues; i++) {
		fprintf(out, "%s{\"queue\":%u", i ? "," : "", snap->queues[i].queue);
		json_fields(out, &vd_queue_metrics, &snap->queues[i]);
		fputc('}', out);
	}
	fputs("],\"groups\":[", out);
	for (size_t i = 0; i < snap->ngroups; i++) {
		fprintf(out, "%s{\"group\":%u", i ? "," : "", snap->groups[i].group);
		json_fields(out, &vd_group_metrics, &snap->groups[i]);
		fputc('}', out);
	}
	fputs("],\"outputs\":[", out);
	for (size_t i = 0; i < snap->noutputs; i++) {
		fprintf(out, "%s{\"output\":\"%s\"", i ? "," : "", snap->outputs[i].output);
		json_fields(out, &vd_output_metrics, &snap->outputs[i]);
		fputc('}', out);
	}
	fputc(']', out);
	if (snap->has_rules) {
		fputs(",\"rules\":[", out);
		for (size_t i = 0; i < snap->nrules; i++) {
			fprintf(out, "%s{\"name\":", i ? "," : "");
			vd_metrics_json_string(out, snap->rules[i].name);
			fprintf(out, ",\"index\":%u", snap->rules[i].index);
			json_fields(out, &vd_rule_metrics, &snap->rules[i]);
			fputc('}', out);
		}
		fputc(']', out);
	}
	fputs("}\n", out);
}
