/* test_metrics.c - one stats snapshot in the three formats (engine/daemon/
 * metrics_table.c, stats_report.c, metrics_prometheus.c, metrics_json.c,
 * metrics_file.c): the text lines byte for byte as the format scripts parse
 * was written before the tables, every table entry in the Prometheus
 * exposition (HELP and TYPE once, the type, the value, the labels escaped)
 * and in the JSON object, and the metrics file replaced whole. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <verdict/libverdict.h>

#include "metrics.h"
#include "metrics_file.h"
#include "stats_report.h"

/* Every entry of t in row gets a value of its own: base + its position. */
static void fill(const struct vd_metric_table *t, void *row, uint64_t base)
{
	for (size_t k = 0; k < t->n; k++)
		*(uint64_t *)((char *)row + t->metrics[k].offset) = base + k;
}

static struct vd_queue_row queues[2];
static struct vd_group_row groups[1];
static struct vd_rule_stats rules[3];

/* Two queues, a group, two outputs, three rules (one named with a quote
 * and a backslash), every counter different. */
static struct vd_stats_snapshot snapshot(void)
{
	struct vd_stats_snapshot s = {
		.queues = queues, .nqueues = 2, .groups = groups, .ngroups = 1,
		.has_rules = true, .rules = rules, .nrules = 3, .has_outputs = true,
		.outputs = { { .output = "json" }, { .output = "pcap" } }, .noutputs = 2,
	};

	queues[0].queue = 3;
	queues[1].queue = 65535;
	fill(&vd_queue_metrics, &queues[0], 1);
	fill(&vd_queue_metrics, &queues[1], 1000);
	/* Release errors in whole nanoseconds that read well in µs and seconds. */
	queues[0].s.release_error_p50_ns = 1500;
	queues[0].s.release_error_p99_ns = 250000;
	queues[0].s.release_error_max_ns = 2000000000;
	groups[0].group = 5;
	fill(&vd_group_metrics, &groups[0], 100);
	strcpy(rules[0].name, "(default)");
	strcpy(rules[1].name, "web");
	strcpy(rules[2].name, "a \"b\" \\c");
	for (unsigned i = 0; i < 3; i++) {
		rules[i].index = i;
		fill(&vd_rule_metrics, &rules[i], 200 + 10 * i);
	}
	rules[1].errors = rules[1].delayed = rules[1].limit_dropped = 0; /* shown when not 0 */
	fill(&vd_output_metrics, &s.outputs[0], 300);
	fill(&vd_output_metrics, &s.outputs[1], 400);
	fill(&vd_daemon_metrics, &s.daemon, 500);
	return s;
}

static char *render(void (*write)(FILE *, const struct vd_stats_snapshot *),
		    const struct vd_stats_snapshot *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	write(f, s);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void text_unlabelled(FILE *f, const struct vd_stats_snapshot *s)
{
	vd_stats_text(f, s, NULL);
}

static void expect_in(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("output lacks \"%s\":\n%s", want, text);
}

/* The queue part of the line as stats_report.c printed it before the tables,
 * with the queue tuning fields (fail_open, maxlen, rcvbuf, grows) added
 * before errors, which stays last. */
static void old_queue(char *out, size_t size, const char *sep, const struct vd_queue_row *r)
{
	const struct vd_queue_stats *s = &r->s;

	snprintf(out, size,
		 "%s q%u packets=%lu accepted=%lu dropped=%lu queued=%lu repeated=%lu "
		 "marked=%lu parse_errors=%lu truncated=%lu batches=%lu verdict_msgs=%lu "
		 "kernel_queue_dropped=%lu kernel_user_dropped=%lu enobufs=%lu undecodable=%lu "
		 "rewritten=%lu rewrite_refused=%lu held=%lu held_max=%lu released=%lu "
		 "pending=%lu hold_overflow=%lu release_error_p50_us=%.1f "
		 "release_error_p99_us=%.1f release_error_max_us=%.1f fail_open=%lu maxlen=%lu "
		 "rcvbuf=%lu grows=%lu rejected=%lu bypassed=%lu stripped=%lu errors=%lu",
		 sep, r->queue, s->packets, s->accepted, s->dropped, s->queued, s->repeated,
		 s->marked, s->parse_errors, s->truncated, s->batches, s->verdict_msgs,
		 r->kernel_queue_dropped, r->kernel_user_dropped, s->enobufs, s->undecodable,
		 s->rewritten, s->rewrite_refused, s->held, s->held_max, s->released, s->pending,
		 s->hold_overflow, s->release_error_p50_ns / 1e3, s->release_error_p99_ns / 1e3,
		 s->release_error_max_ns / 1e3, r->fail_open, s->maxlen, s->rcvbuf, s->grows,
		 s->rejected, s->bypassed, s->stripped,
		 s->recv_errors + s->send_errors + s->kernel_errors + s->invalid_verdicts);
}

static void test_text_lines_unchanged(void **unused)
{
	struct vd_stats_snapshot s = snapshot();
	char q0[1024], q1[1024], want[4096];
	const struct vd_nflog_stats *g = &groups[0].s;
	char *text;

	(void)unused;
	/* The row's sum, as vd_queue_row_read makes it. */
	for (int i = 0; i < 2; i++)
		queues[i].errors = queues[i].s.recv_errors + queues[i].s.send_errors +
				   queues[i].s.kernel_errors + queues[i].s.invalid_verdicts;
	old_queue(q0, sizeof(q0), "", &queues[0]);
	old_queue(q1, sizeof(q1), ";", &queues[1]);
	snprintf(want, sizeof(want),
		 "stats final:%s%s\n"
		 "nflog final: g5 packets=%lu bytes=%lu parse_errors=%lu enobufs=%lu seq_gaps=%lu "
		 "recv_errors=%lu rcvbuf=%lu\n"
		 "logs final: written=%lu errors=%lu\n"
		 "rules final: generation=%lu (default)=200(errors=201,rewrite_errors=202,"
		 "delayed=203,loss_dropped=204,limit_dropped=205,held=206,held_max=207,"
		 "released=208) web=210(rewrite_errors=212,loss_dropped=214,held=216,"
		 "held_max=217,released=218) a \"b\" \\c=220(errors=221,rewrite_errors=222,"
		 "delayed=223,loss_dropped=224,limit_dropped=225,held=226,held_max=227,"
		 "released=228)\n",
		 q0, q1, g->packets, g->bytes, g->parse_errors, g->enobufs, g->seq_gaps,
		 g->recv_errors, g->rcvbuf, s.outputs[0].written + s.outputs[1].written,
		 s.outputs[0].errors + s.outputs[1].errors, s.daemon.rules_generation);
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		vd_stats_text(f, &s, "final");
		fclose(f);
		assert_string_equal(buf, want);
		free(buf);
	}
	expect_in(q0, " release_error_p50_us=1.5 release_error_p99_us=250.0 "
		      "release_error_max_us=2000000.0 ");
	/* Without rows of a kind, no line of it. */
	s.ngroups = 0;
	s.has_outputs = false;
	s.has_rules = false;
	text = render(text_unlabelled, &s);
	assert_int_equal(strncmp(text, "stats: q3 packets=1 ", 20), 0);
	assert_null(strstr(text, "nflog"));
	assert_null(strstr(text, "logs:"));
	assert_null(strstr(text, "rules:"));
	free(text);
}

/* "NAME{LABEL}" or "NAME" for a table's entry, as the exposition spells it. */
static void prom_name(char *out, size_t size, const struct vd_metric_table *t,
		      const struct vd_metric *m)
{
	snprintf(out, size, "verdictd_%s%s%s%s%s", t->family, *t->family ? "_" : "", m->name,
		 (m->flags & VD_METRIC_NS) ? "_seconds" : (m->flags & VD_METRIC_BYTES) ? "_bytes" : "",
		 m->type == VD_METRIC_COUNTER ? "_total" : "");
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Each entry of t: HELP and TYPE exactly once, and the sample of the row
 * labelled label with its value. */
static void expect_family(const char *text, const struct vd_metric_table *t, const void *row,
			  const char *label)
{
	for (size_t k = 0; k < t->n; k++) {
		const struct vd_metric *m = &t->metrics[k];
		char name[160], line[512];

		prom_name(name, sizeof(name), t, m);
		snprintf(line, sizeof(line), "\n# HELP %s %s\n", name, m->help);
		if (m->flags & VD_METRIC_TEXT_ONLY) {
			assert_int_equal(count(text, line), 0);
			continue;
		}
		assert_int_equal(count(text, line), 1);
		snprintf(line, sizeof(line), "\n# TYPE %s %s\n", name,
			 m->type == VD_METRIC_COUNTER ? "counter" : "gauge");
		assert_int_equal(count(text, line), 1);
		if (m->flags & VD_METRIC_NS)
			continue; /* a float: the literal checks below */
		snprintf(line, sizeof(line), "\n%s%s %llu\n", name, label,
			 (unsigned long long)vd_metric_value(m, row));
		expect_in(text, line);
	}
}

static void test_prometheus_every_entry(void **unused)
{
	struct vd_stats_snapshot s = snapshot();
	char *text = render(vd_metrics_prometheus, &s);
	char build[128];

	(void)unused;
	expect_family(text, &vd_queue_metrics, &queues[0], "{queue=\"3\"}");
	expect_family(text, &vd_queue_metrics, &queues[1], "{queue=\"65535\"}");
	expect_family(text, &vd_group_metrics, &groups[0], "{group=\"5\"}");
	expect_family(text, &vd_rule_metrics, &rules[0], "{rule=\"(default)\"}");
	expect_family(text, &vd_rule_metrics, &rules[2], "{rule=\"a \\\"b\\\" \\\\c\"}");
	expect_family(text, &vd_output_metrics, &s.outputs[1], "{output=\"pcap\"}");
	expect_family(text, &vd_daemon_metrics, &s.daemon, "");
	snprintf(build, sizeof(build), "verdictd_build_info{version=\"%s\"} 1\n",
		 VD_VERSION_STRING);
	expect_in(text, build);
	/* Spelled out once, independently of the tables. */
	expect_in(text, "\nverdictd_queue_packets_total{queue=\"3\"} 1\n");
	expect_in(text, "\n# TYPE verdictd_queue_held gauge\n");
	expect_in(text, "\n# TYPE verdictd_queue_dropped_total counter\n");
	expect_in(text, "\n# TYPE verdictd_rule_errors_total counter\n");
	expect_in(text, "\n# TYPE verdictd_last_reload_success gauge\n");
	expect_in(text, "\nverdictd_queue_release_error_p50_seconds{queue=\"3\"} 1.5e-06\n");
	expect_in(text, "\nverdictd_queue_release_error_p99_seconds{queue=\"3\"} 0.00025\n");
	expect_in(text, "\nverdictd_queue_release_error_max_seconds{queue=\"3\"} 2\n");
	expect_in(text, "\n# TYPE verdictd_nflog_rcvbuf_bytes gauge\n");
	expect_in(text, "\nverdictd_rule_hits_total{rule=\"web\"} 210\n");
	expect_in(text, "\nverdictd_log_errors_total{output=\"json\"} 301\n");
	expect_in(text, "\nverdictd_reloads_total 500\n");
	expect_in(text, "\nverdictd_last_reload_success 502\n");
	assert_null(strstr(text, "verdictd_queue_errors_total")); /* a text-only sum */
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
}

static void test_label_escaping(void **unused)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)unused;
	vd_metrics_label_value(f, "a\\b\"c\nd é");
	fclose(f);
	assert_string_equal(text, "\"a\\\\b\\\"c\\nd é\"");
	free(text);
}

static void test_json_every_entry(void **unused)
{
	struct vd_stats_snapshot s = snapshot();
	char *text = render(vd_metrics_json, &s), want[256];
	const struct vd_metric_table *t = &vd_queue_metrics;

	(void)unused;
	assert_int_equal(strncmp(text, "{\"version\":\"", 12), 0);
	assert_string_equal(text + strlen(text) - 3, "]}\n");
	expect_in(text, "\"queues\":[{\"queue\":3,\"packets\":1,");
	expect_in(text, ",{\"queue\":65535,\"packets\":1000,");
	for (size_t k = 0; k < t->n; k++) {
		const struct vd_metric *m = &t->metrics[k];

		snprintf(want, sizeof(want), ",\"%s%s\":%llu", m->name,
			 (m->flags & VD_METRIC_NS) ? "_ns" : "",
			 (unsigned long long)vd_metric_value(m, &queues[1]));
		if (m->flags & VD_METRIC_TEXT_ONLY)
			assert_null(strstr(text, want));
		else
			expect_in(text, want);
	}
	expect_in(text, "\"release_error_max_ns\":2000000000");
	expect_in(text, "\"groups\":[{\"group\":5,\"packets\":100,\"bytes\":101,\"batches\":102,");
	expect_in(text, "\"rcvbuf\":107}]");
	expect_in(text, "\"outputs\":[{\"output\":\"json\",\"written\":300,\"errors\":301},"
			"{\"output\":\"pcap\",\"written\":400,\"errors\":401}]");
	expect_in(text, "{\"name\":\"a \\\"b\\\" \\\\c\",\"index\":2,\"hits\":220,\"errors\":221,");
	expect_in(text, "\"reloads\":500,\"reload_errors\":501,\"last_reload_success\":502,"
			"\"last_reload_time_seconds\":503,\"rules_generation\":504,"
			"\"metrics_file_errors\":505,");
	/* Braces and brackets balance outside strings. */
	{
		int depth = 0;
		bool in_string = false;

		for (const char *p = text; *p; p++) {
			if (in_string && *p == '\\')
				p++;
			else if (*p == '"')
				in_string = !in_string;
			else if (!in_string && (*p == '{' || *p == '['))
				depth++;
			else if (!in_string && (*p == '}' || *p == ']'))
				assert_true(--depth >= 0);
		}
		assert_int_equal(depth, 0);
		assert_false(in_string);
	}
	free(text);
	/* Without a rules file, no "rules" key. */
	s.has_rules = false;
	text = render(vd_metrics_json, &s);
	assert_null(strstr(text, "\"rules\""));
	free(text);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);

	assert_non_null(f);
	assert_non_null(buf);
	assert_true(fread(buf, 1, (1 << 20) - 1, f) < (1 << 20) - 1);
	fclose(f);
	return buf;
}

static void test_metrics_file_replaced_whole(void **unused)
{
	struct vd_stats_snapshot s = snapshot();
	char dir[] = "/tmp/vd-test-metrics.XXXXXX", path[128], err[256], *got, *want;
	struct stat first, second;

	(void)unused;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/verdictd.prom", dir);
	assert_int_equal(vd_metrics_file_write(path, &s, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &first), 0);
	assert_int_equal(first.st_mode & 0777, 0644);
	queues[0].s.packets = 424242;
	assert_int_equal(vd_metrics_file_write(path, &s, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &second), 0);
	/* A new file renamed over the old one: never the old one rewritten. */
	assert_int_not_equal(first.st_ino, second.st_ino);
	got = slurp(path);
	want = render(vd_metrics_prometheus, &s);
	assert_string_equal(got, want);
	expect_in(got, "verdictd_queue_packets_total{queue=\"3\"} 424242\n");
	free(got);
	free(want);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0); /* empty: no temporary file left */
	/* Its directory gone: one line naming the path and the step. */
	assert_int_equal(vd_metrics_file_write(path, &s, err, sizeof(err)), -1);
	expect_in(err, path);
	expect_in(err, "cannot create a temporary file beside it: No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_lines_unchanged),
		cmocka_unit_test(test_prometheus_every_entry),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_json_every_entry),
		cmocka_unit_test(test_metrics_file_replaced_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
