/*
 * replay.c - verdictd --replay (replay.h): the same parser and rule table as
 * live traffic, one packet after another from a capture file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <verdict/queue.h>
#include <verdict/rules.h>

#include "capture.h"
#include "log_sink.h"
#include "internal.h"
#include "replay.h"
#include "stats_report.h"

struct tally {
	unsigned long long packets, accepted, dropped, queued, repeated, marked, parse_errors;
};

static void count(struct tally *t, const struct vd_packet *pkt, struct vd_verdict v)
{
	t->packets++;
	t->accepted += v.kind == VD_VERDICT_ACCEPT;
	t->dropped += v.kind == VD_VERDICT_DROP;
	t->queued += v.kind == VD_VERDICT_QUEUE;
	t->repeated += v.kind == VD_VERDICT_REPEAT;
	t->marked += (v.flags & VD_VERDICT_F_MARK) != 0;
	t->parse_errors += pkt->parse_error != VD_PARSE_OK;
}

/* Every packet of c through r; records to w when there is one. */
static int replay_packets(struct vd_capture *c, struct vd_rules *r, struct vd_log_writer *w,
			  struct tally *t, char *err, size_t errlen)
{
	struct vd_packet pkt;
	int ret;

	while ((ret = vd_capture_next(c, &pkt, err, errlen)) == 1) {
		struct vd_rules_match m;
		struct vd_verdict v = vd_rules_eval_match(r, 0, &pkt, &m);

		count(t, &pkt, v);
		if (w)
			vd_log_writer_record(w, &pkt, m.rule, &v, -1);
		if ((t->packets & 63) == 0) { /* a "batch": names stay valid until here */
			if (w)
				vd_log_writer_flush(w);
			vd_rules_reader_quiescent();
		}
	}
	if (w)
		vd_log_writer_flush(w);
	return ret;
}

int vd_replay_run(const struct vd_cli_options *o, FILE *out)
{
	struct vd_rules_config cfg = { .path = o->rules, .nworkers = 1,
				       .lua_memory = o->lua_memory,
				       .lua_instructions = o->lua_instructions,
				       .lua_call_ms = o->lua_call_ms,
				       .lua_load_instructions = o->lua_load_instructions,
				       .lua_load_ms = o->lua_load_ms,
				       .plugin_path = o->plugin_path };
	char err[VD_ERRBUF_SIZE];
	struct vd_rules *r = NULL;
	struct vd_capture *c = NULL;
	struct vd_log_sink *sink = NULL;
	struct vd_log_writer *w = NULL;
	struct tally t = { 0 };
	int status = 1;

	vd_rules_reader_register();
	if (!(r = vd_rules_open(&cfg, err))) {
		status = errno == ENOMEM ? 1 : 2; /* as verdictd --rules: 2 is the file's */
		goto out;
	}
	if (!(c = vd_capture_open(o->replay, err, sizeof(err))))
		goto out;
	if (o->log_json || o->log_pcap) {
		sink = vd_log_sink_open(o->log_json, o->log_pcap, o->pcap_raw ? VD_PCAP_RAW
									      : VD_PCAP_NFLOG,
					err, sizeof(err));
		if (!sink || !(w = vd_log_writer_new(sink))) {
			if (sink)
				snprintf(err, sizeof(err), "replay: out of memory");
			goto out;
		}
	}
	if (replay_packets(c, r, w, &t, err, sizeof(err)) < 0)
		goto out;
	/* With --log-json -, stdout carries the records: the summary goes to stderr. */
	if (o->log_json && strcmp(o->log_json, "-") == 0)
		out = stderr;
	fprintf(out, "replay %s: packets=%llu skipped=%llu accepted=%llu dropped=%llu queued=%llu "
		"repeated=%llu marked=%llu parse_errors=%llu\n", o->replay, t.packets,
		(unsigned long long)vd_capture_skipped(c), t.accepted, t.dropped, t.queued,
		t.repeated, t.marked, t.parse_errors);
	vd_rules_report(out, r, "replay");
	status = 0;
out:
	if (status)
		fprintf(stderr, "verdictd: %s\n", err);
	vd_log_writer_free(w);
	vd_log_sink_close(sink);
	vd_capture_close(c);
	vd_rules_close(r);
	vd_rules_reader_unregister();
	return status;
}
