/*
 * micro.c - vd-micro: offline micro benchmarks, no kernel, one thread.
 *
 *   vd-micro [--quick] [--rules-dir DIR] [--plugin-dir DIR]
 *
 * The 10-rule tables are bench/rules/{decl10,lua10,plugin10}.lua (the last two
 * are the end-to-end rows' tables); --plugin-dir is where hook_accept.so is.
 *
 * Rows (ns per packet and packets per second, best of 3 timed rounds):
 *   parse         vd_packet_parse over a mixed IPv4/IPv6 TCP/UDP corpus
 *   rules-10      a 10-rule declarative table (vd_rules_eval: RCU read,
 *                 evaluation, per-rule counter), the same corpus
 *   rules-1000    a 1,000-rule declarative table
 *   lua-trivial   one rule whose Lua hook returns "accept"
 *   lua-10        nine declarative rules, then a Lua hook reading pkt.dport
 *                 and pkt.len (the end-to-end benchmark's table)
 *   plugin-10     the same, ending in a C hook (bench/hook_accept.c)
 *   rcu-read      one QSBR read section: rcu_read_lock, rcu_dereference,
 *                 rcu_read_unlock, plus a quiescent state every 64
 *   json-record   one NFLOG record of a 64-byte UDP packet (prefix, rule,
 *                 input interface, mark, sequence number) as a JSON line
 *                 into a worker's log writer, flushed every 64 to /dev/null
 *   pcap-record   the same packet as an NFLOG-linktype pcap record, the same
 *                 way
 *   rewrite-base  the rewrite rows' loop with nothing to rewrite: copy a
 *                 UDP packet with a 64-byte payload (3/4 IPv4, 1/4 IPv6,
 *                 checksums right) into a receive-like buffer, parse it,
 *                 prepare its edit, vd_rules_eval_edit on a one-rule table
 *   rewrite-set   the same, the rule setting TTL and DSCP (rewrite_set.lua)
 *   rewrite-lua   the same, a Lua hook writing 4 payload bytes
 *                 (rewrite_lua.lua); the rewrite itself costs the
 *                 difference to rewrite-base (micro_rewrite.c)
 * One line per row on stdout: "row=NAME ns_per_packet=X pps=Y".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <verdict/packet.h>
#include <verdict/queue.h> /* VD_ERRBUF_SIZE */
#include <verdict/rules.h>

#include "log_sink.h"
#include "micro.h"
#include "rcu.h"

#define CORPUS 4096
#define PKT_BYTES 128

static uint8_t corpus_bytes[CORPUS][PKT_BYTES];
static uint32_t corpus_len[CORPUS];
static struct vd_packet corpus[CORPUS];
static char workdir[64];

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Writes a TCP or UDP header and 16 bytes of payload at p; returns its length. */
static size_t l4_write(uint8_t *p, uint8_t proto, unsigned sport, unsigned dport)
{
	size_t hl = proto == IPPROTO_TCP ? 20 : 8;

	memset(p, 0, hl + 16);
	put16(p, sport);
	put16(p + 2, dport);
	if (proto == IPPROTO_TCP) {
		p[12] = 5 << 4;
		p[13] = 0x10; /* ACK */
	} else {
		put16(p + 4, (unsigned)(hl + 16));
	}
	memset(p + hl, 0xab, 16);
	return hl + 16;
}

/* A deterministic mix: 3/4 IPv4, 1/4 IPv6; TCP and UDP; ports spread over
 * 10000-11199 so that a 1,000-rule table sees hits and misses. */
static void corpus_build(void)
{
	unsigned seed = 12345;

	for (unsigned i = 0; i < CORPUS; i++) {
		uint8_t *b = corpus_bytes[i];
		uint8_t proto = (i & 1) ? IPPROTO_UDP : IPPROTO_TCP;
		unsigned dport, sport;
		size_t n;

		seed = seed * 1103515245u + 12345u;
		dport = 10000 + (seed >> 8) % 1200;
		sport = 20000 + (seed >> 4) % 30000;
		if (i % 4 != 3) {
			memset(b, 0, 20);
			b[0] = 0x45;
			b[8] = 64;
			b[9] = proto;
			b[12] = 198, b[13] = 18, b[14] = (uint8_t)(i >> 8), b[15] = (uint8_t)i;
			b[16] = 198, b[17] = 19, b[18] = 0, b[19] = 1;
			n = 20 + l4_write(b + 20, proto, sport, dport);
			put16(b + 2, (unsigned)n);
		} else {
			memset(b, 0, 40);
			b[0] = 0x60;
			b[6] = proto;
			b[7] = 64;
			b[8] = 0x20, b[9] = 0x01, b[10] = 0x0d, b[11] = 0xb8;
			b[22] = (uint8_t)(i >> 8), b[23] = (uint8_t)i;
			b[24] = 0x20, b[25] = 0x01, b[26] = 0x0d, b[27] = 0xb8, b[39] = 1;
			n = 40 + l4_write(b + 40, proto, sport, dport);
			put16(b + 4, (unsigned)(n - 40));
		}
		corpus_len[i] = (uint32_t)n;
		vd_packet_view_init(&corpus[i], b, (uint32_t)n, (uint32_t)n);
		if (vd_packet_parse(&corpus[i]) != VD_PARSE_OK) {
			fprintf(stderr, "vd-micro: corpus packet %u does not parse\n", i);
			exit(1);
		}
	}
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

volatile uint64_t sink;

/* Best of three rounds of n packets: ns per packet. */
double measure(round_fn fn, void *arg, unsigned long n)
{
	double best = 1e18;

	fn(arg, n / 10 + 1); /* warm caches and the Lua JIT-less VM's tables */
	for (int r = 0; r < 3; r++) {
		double t0 = now_ns();

		sink += fn(arg, n);
		double per = (now_ns() - t0) / (double)n;
		if (per < best)
			best = per;
	}
	return best;
}

void report(const char *row, double ns)
{
	printf("row=%s ns_per_packet=%.1f pps=%.0f\n", row, ns, 1e9 / ns);
	fflush(stdout);
}

static uint64_t parse_round(void *arg, unsigned long n)
{
	struct vd_packet p;
	uint64_t acc = 0;

	(void)arg;
	for (unsigned long i = 0; i < n; i++) {
		unsigned k = (unsigned)(i % CORPUS);

		vd_packet_view_init(&p, corpus_bytes[k], corpus_len[k], corpus_len[k]);
		vd_packet_parse(&p);
		acc += p.dport;
	}
	return acc;
}

static uint64_t rules_round(void *arg, unsigned long n)
{
	struct vd_rules *r = arg;
	uint64_t acc = 0;

	for (unsigned long i = 0; i < n; i++) {
		acc += vd_rules_eval(r, 0, &corpus[i % CORPUS]).kind;
		if ((i & 63) == 63)
			vd_rcu_quiescent(); /* as the engine does per batch */
	}
	return acc;
}

struct shared {
	int value;
};
static struct shared *rcu_ptr;

static uint64_t rcu_round(void *arg, unsigned long n)
{
	uint64_t acc = 0;

	(void)arg;
	for (unsigned long i = 0; i < n; i++) {
		rcu_read_lock();
		acc += vd_rcu_read(&rcu_ptr)->value;
		rcu_read_unlock();
		if ((i & 63) == 63)
			vd_rcu_quiescent();
	}
	return acc;
}

/* A logged packet as a log group hands it over: 64 bytes of IPv4 UDP with
 * the metadata NFLOG carries. */
static struct vd_packet *logged_packet(void)
{
	static uint8_t b[64];
	static struct vd_packet p;

	memset(b, 0, sizeof(b));
	b[0] = 0x45;
	put16(b + 2, sizeof(b));
	b[8] = 64;
	b[9] = IPPROTO_UDP;
	b[12] = 198, b[13] = 18, b[15] = 1;
	b[16] = 198, b[17] = 19, b[19] = 2;
	put16(b + 20, 41000);
	put16(b + 22, 6000);
	put16(b + 24, sizeof(b) - 20);
	vd_packet_view_init(&p, b, sizeof(b), sizeof(b));
	if (vd_packet_parse(&p) != VD_PARSE_OK) {
		fprintf(stderr, "vd-micro: the logged packet does not parse\n");
		exit(1);
	}
	p.source = VD_SOURCE_NFLOG;
	p.queue = 5;
	p.hook = 3;
	p.meta |= VD_META_PREFIX | VD_META_MARK | VD_META_INDEV | VD_META_SEQ | VD_META_TIMESTAMP;
	p.prefix = "verdictd: udp 6000";
	p.mark = 0x10;
	p.indev = 1; /* loopback: always there */
	p.timestamp_ns = 1700000000123456000ull;
	return &p;
}

static uint64_t log_round(void *arg, unsigned long n)
{
	struct vd_log_writer *w = arg;
	struct vd_packet *p = logged_packet();

	for (unsigned long i = 0; i < n; i++) {
		p->seq = (uint32_t)i;
		vd_log_writer_record(w, p, "log-udp", NULL, -1, NULL);
		if ((i & 63) == 63)
			vd_log_writer_flush(w); /* as a worker does per batch */
	}
	vd_log_writer_flush(w);
	return n;
}

/* json-record or pcap-record: one writer on a sink that writes to /dev/null,
 * so the row times formatting and the per-batch write, not a disk. */
static void log_row(const char *row, bool json, unsigned long n)
{
	char err[512];
	struct vd_log_sink *s = vd_log_sink_open(json ? "/dev/null" : NULL,
						 json ? NULL : "/dev/null", VD_PCAP_NFLOG, err,
						 sizeof(err));
	struct vd_log_writer *w = s ? vd_log_writer_new(s) : NULL;

	if (!w) {
		fprintf(stderr, "vd-micro: %s: %s\n", row, s ? "out of memory" : err);
		exit(1);
	}
	report(row, measure(log_round, w, n));
	vd_log_writer_free(w);
	vd_log_sink_close(s);
}

static const char *write_file(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", workdir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "vd-micro: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return path;
}

/* 1,000 rules over ports 10000-10999, TCP and UDP, some with source prefixes. */
static const char *thousand_rules(void)
{
	size_t cap = 1000 * 160, n = 0;
	char *text = malloc(cap);
	const char *path;

	if (!text)
		exit(1);
	n += (size_t)snprintf(text + n, cap - n, "return { default = \"accept\", rules = {\n");
	for (int i = 0; i < 1000; i++) {
		if (i % 3 == 0)
			n += (size_t)snprintf(text + n, cap - n,
					      "  { name = \"r%d\", proto = \"%s\", dport = %d, "
					      "src = \"198.18.%d.0/24\", verdict = \"%s\" },\n",
					      i, i % 2 ? "udp" : "tcp", 10000 + i, i % 16,
					      i % 5 ? "accept" : "drop");
		else
			n += (size_t)snprintf(text + n, cap - n,
					      "  { name = \"r%d\", proto = \"%s\", dport = \"%d-%d\", "
					      "verdict = \"%s\", mark = %d },\n",
					      i, i % 2 ? "udp" : "tcp", 10000 + i, 10000 + i + 2,
					      i % 5 ? "accept" : "drop", i);
	}
	snprintf(text + n, cap - n, "} }\n");
	path = write_file("rules-1000.lua", text);
	free(text);
	return path;
}

static const char *plugin_dir;

static void rules_row(const char *row, const char *path, unsigned long n)
{
	struct vd_rules_config cfg = { .path = path, .nworkers = 1, .plugin_path = plugin_dir };
	char err[VD_ERRBUF_SIZE];
	struct vd_rules *r = vd_rules_open(&cfg, err);

	if (!r) {
		fprintf(stderr, "vd-micro: %s\n", err);
		exit(1);
	}
	report(row, measure(rules_round, r, n));
	vd_rules_close(r);
}

int main(int argc, char **argv)
{
	const char *rules_dir = VD_BENCH_RULES_DIR;
	unsigned long n = 5000000;
	char file[512];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			n = 300000;
		else if (strcmp(argv[i], "--rules-dir") == 0 && i + 1 < argc)
			rules_dir = argv[++i];
		else if (strcmp(argv[i], "--plugin-dir") == 0 && i + 1 < argc)
			plugin_dir = argv[++i];
		else {
			fprintf(stderr, "vd-micro: unknown argument \"%s\" (usage: vd-micro [--quick] "
					"[--rules-dir DIR] [--plugin-dir DIR])\n", argv[i]);
			return 2;
		}
	}
	snprintf(workdir, sizeof(workdir), "/tmp/vd-micro.XXXXXX");
	if (!mkdtemp(workdir)) {
		perror("vd-micro: mkdtemp");
		return 1;
	}
	corpus_build();
	rcu_register_thread();

	report("parse", measure(parse_round, NULL, n));
	snprintf(file, sizeof(file), "%s/decl10.lua", rules_dir);
	rules_row("rules-10", file, n);
	rules_row("rules-1000", thousand_rules(), n);
	rules_row("lua-trivial",
		  write_file("lua-trivial.lua",
			     "return { rules = { { name = \"t\", "
			     "lua = function(pkt) return \"accept\" end } } }\n"),
		  n / 2);
	snprintf(file, sizeof(file), "%s/lua10.lua", rules_dir);
	rules_row("lua-10", file, n / 2);
	if (plugin_dir) {
		snprintf(file, sizeof(file), "%s/plugin10.lua", rules_dir);
		rules_row("plugin-10", file, n);
	}
	rcu_ptr = calloc(1, sizeof(*rcu_ptr));
	report("rcu-read", measure(rcu_round, NULL, n * 4));
	free(rcu_ptr);
	log_row("json-record", true, n / 2);
	log_row("pcap-record", false, n / 2);
	micro_rewrite_rows(rules_dir, n / 2);

	rcu_unregister_thread();
	for (const char *f = "rules-1000.lua\0lua-trivial.lua\0";
	     *f; f += strlen(f) + 1) {
		char path[128];

		snprintf(path, sizeof(path), "%s/%s", workdir, f);
		unlink(path);
	}
	rmdir(workdir);
	return (int)(sink & 0); /* keep the sink */
}
