/*
 * replay.c - verdictd --replay (replay.h): the same parser and rule table as
 * live traffic, one packet after another from a capture file.
 *
 * Each packet is read into a private copy with room to grow and evaluated
 * with an edit over it, as a queue's edit callback is: a rule's `set` and
 * its hooks rewrite the copy, and the record of the capture stays as it was
 * for the packets whose edits were discarded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <verdict/queue.h>
#include <verdict/rules.h>

#include "capture.h"
#include "log_sink.h"
#include "internal.h"
#include "replay.h"
#include "replay_out.h"
#include "stats_report.h"

struct tally {
	unsigned long long packets, accepted, dropped, queued, repeated, marked, parse_errors;
	unsigned long long rewritten, rewrite_errors;
};

/* One replay: the capture, the rules, the outputs, and the private copy
 * each packet is edited in. */
struct replay {
	struct vd_capture *c;
	struct vd_rules *r;
	struct vd_log_writer *w;   /* --log-json/--log-pcap, or NULL */
	struct vd_replay_out *out; /* --write-pcap, or NULL */
	uint8_t *buf;              /* REPLAY_BUFFER bytes */
	uint32_t capacity;         /* what an edit may grow a packet to */
	struct tally t;
};

/* libpcap's largest record: any IP packet of a capture fits, and so does
 * its growth to 65,535 bytes. */
#define REPLAY_BUFFER 262144u

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

/* After discarded edits the copy holds edited bytes: the view goes back to
 * the record's own, which is what goes on. */
static void view_original(const struct vd_capture *c, struct vd_packet *pkt)
{
	const struct vd_capture_frame *fr = vd_capture_frame(c);

	pkt->data = fr->data + fr->ip_off;
	pkt->caplen = fr->ip_caplen;
	pkt->len = fr->ip_len;
	vd_packet_parse(pkt);
}

/* One packet through the rules, edited in the private copy (pkt is a view
 * of it), then recorded and written. Returns 0, or -1 with err filled when
 * --write-pcap failed. */
static int replay_one(struct replay *rp, struct vd_packet *pkt, char *err, size_t errlen)
{
	struct vd_packet_edit edit;
	struct vd_rules_match m;
	struct vd_verdict v;
	const struct vd_packet_edit *sent = NULL;

	if (pkt->data == rp->buf) {
		vd_packet_edit_prepare(&edit, pkt, rp->buf,
				       pkt->caplen > rp->capacity ? pkt->caplen : rp->capacity, 0);
		v = vd_rules_eval_edit(rp->r, 0, &edit, &m);
		if (vd_packet_edit_pending(&edit))
			sent = &edit;
		else if (edit.fields)
			view_original(rp->c, pkt);
	} else { /* longer than any record libpcap reads: never edited */
		v = vd_rules_eval_match(rp->r, 0, pkt, &m);
		m.rewrite_failed = false;
	}
	count(&rp->t, pkt, v);
	rp->t.rewritten += sent != NULL;
	rp->t.rewrite_errors += m.rewrite_failed;
	if (rp->w)
		vd_log_writer_record(rp->w, pkt, m.rule, &v, -1, sent);
	if (rp->out && v.kind != VD_VERDICT_DROP)
		return vd_replay_out_write(rp->out, rp->c, pkt, sent, err, errlen);
	return 0;
}

/* Every packet of the capture through the rules. */
static int replay_packets(struct replay *rp, char *err, size_t errlen)
{
	struct vd_packet pkt;
	int ret;

	while ((ret = vd_capture_next_copy(rp->c, &pkt, rp->buf, REPLAY_BUFFER, err, errlen)) ==
	       1) {
		if (replay_one(rp, &pkt, err, errlen) < 0)
			return -1;
		if ((rp->t.packets & 63) == 0) { /* a "batch": names stay valid until here */
			if (rp->w)
				vd_log_writer_flush(rp->w);
			vd_rules_reader_quiescent();
		}
	}
	if (rp->w)
		vd_log_writer_flush(rp->w);
	if (ret == 0 && rp->out && vd_replay_out_flush(rp->out, err, errlen) < 0)
		return -1;
	return ret;
}

/* --write-pcap onto the capture being read would empty it before it is
 * read. Returns 0, or -1 with err filled. */
static int output_not_input(const struct vd_cli_options *o, char *err, size_t errlen)
{
	struct stat in, out;

	if (stat(o->write_pcap, &out) == 0 && stat(o->replay, &in) == 0 &&
	    in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
		snprintf(err, errlen, "--write-pcap %s: this is the capture being replayed "
			 "(--replay %s): write to another file", o->write_pcap, o->replay);
		return -1;
	}
	return 0;
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
	struct vd_log_sink *sink = NULL;
	struct replay rp = { 0 };
	int status = 1;

	vd_rules_reader_register();
	if (!(rp.r = vd_rules_open(&cfg, err))) {
		status = errno == ENOMEM ? 1 : 2; /* as verdictd --rules: 2 is the file's */
		goto out;
	}
	if (!(rp.c = vd_capture_open(o->replay, err, sizeof(err))))
		goto out;
	if (!(rp.buf = malloc(REPLAY_BUFFER))) {
		snprintf(err, sizeof(err), "replay: out of memory");
		goto out;
	}
	rp.capacity = vd_replay_out_capacity(vd_capture_linktype(rp.c));
	if (o->write_pcap) {
		if (output_not_input(o, err, sizeof(err)) < 0) {
			status = 2;
			goto out;
		}
		if (!(rp.out = vd_replay_out_open(o->write_pcap, rp.c, err, sizeof(err))))
			goto out;
	}
	if (o->log_json || o->log_pcap) {
		sink = vd_log_sink_open(o->log_json, o->log_pcap, o->pcap_raw ? VD_PCAP_RAW
									      : VD_PCAP_NFLOG,
					err, sizeof(err));
		if (!sink || !(rp.w = vd_log_writer_new(sink))) {
			if (sink)
				snprintf(err, sizeof(err), "replay: out of memory");
			goto out;
		}
	}
	if (replay_packets(&rp, err, sizeof(err)) < 0)
		goto out;
	/* With --log-json -, stdout carries the records: the summary goes to stderr. */
	if (o->log_json && strcmp(o->log_json, "-") == 0)
		out = stderr;
	fprintf(out, "replay %s: packets=%llu skipped=%llu accepted=%llu dropped=%llu queued=%llu "
		"repeated=%llu marked=%llu parse_errors=%llu written=%llu rewritten=%llu "
		"rewrite_errors=%llu\n", o->replay, rp.t.packets,
		(unsigned long long)vd_capture_skipped(rp.c), rp.t.accepted, rp.t.dropped,
		rp.t.queued, rp.t.repeated, rp.t.marked, rp.t.parse_errors,
		rp.out ? (unsigned long long)vd_replay_out_written(rp.out) : 0ull, rp.t.rewritten,
		rp.t.rewrite_errors);
	vd_rules_report(out, rp.r, "replay");
	status = 0;
out:
	if (status)
		fprintf(stderr, "verdictd: %s\n", err);
	vd_log_writer_free(rp.w);
	vd_log_sink_close(sink);
	vd_replay_out_close(rp.out);
	free(rp.buf);
	vd_capture_close(rp.c);
	vd_rules_close(rp.r);
	vd_rules_reader_unregister();
	return status;
}
