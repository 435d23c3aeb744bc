/* test_capture.c - the pcap writer (engine/pcap_out.c) and the capture reader
 * (engine/capture.c): round trips in both link types, the link types of
 * other tools' captures, hand-made pcapng, and every way a file or a disk can
 * go wrong. Files live in a mkdtemp directory that teardown removes. */
#define _GNU_SOURCE /* mkdtemp */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <linux/netfilter/nfnetlink_log.h>
#include <pcap/pcap.h>

#include "capture.h"
#include "helpers.h"
#include "pcap_out.h"

static char dir[64], path[128], err[512];
static uint8_t b4[VT_PACKET_MAX], b6[VT_PACKET_MAX];
static size_t n4, n6;

static void unlimit_file_size(void);

static int setup(void **state)
{
	struct vt_l4 udp = { .proto = IPPROTO_UDP, .sport = 1000, .dport = 9999, .payload_len = 20 };
	struct vt_l4 tcp = { .proto = IPPROTO_TCP, .sport = 40000, .dport = 443,
			     .tcp_flags = VD_TCP_SYN };

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vd-capture-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.pcap", dir);
	n4 = vt_ipv4_build(b4, sizeof(b4), &(struct vt_ipv4){ .src = "198.18.0.1",
							       .dst = "198.19.0.2" }, &udp);
	n6 = vt_ipv6_build(b6, sizeof(b6), &(struct vt_ipv6){ .src = "2001:db8::1",
							       .dst = "2001:db8::2" }, &tcp);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	unlimit_file_size();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void view(struct vd_packet *p, const uint8_t *b, size_t n)
{
	assert_int_equal(vt_parse(p, b, n, n), VD_PARSE_OK);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct vd_capture *reader(const char *file)
{
	struct vd_capture *c = vd_capture_open(file, err, sizeof(err));

	assert_non_null(c);
	return c;
}

static int next(struct vd_capture *c, struct vd_packet *q)
{
	return vd_capture_next(c, q, err, sizeof(err));
}

/* q, read back, against p, written with prefix: bytes, ports, metadata. */
static void same(const struct vd_packet *q, const struct vd_packet *p, bool nflog,
		 const char *prefix)
{
	assert_int_equal(q->source, VD_SOURCE_REPLAY);
	assert_int_equal(q->caplen, p->caplen);
	assert_int_equal(q->len, p->len);
	assert_memory_equal(q->data, p->data, p->caplen);
	assert_int_equal(q->sport, p->sport);
	assert_int_equal(q->dport, p->dport);
	if (!nflog) {
		assert_int_equal(q->meta, VD_META_TIMESTAMP);
		assert_null(q->prefix);
		return;
	}
	assert_int_equal(q->meta, p->meta | VD_META_TIMESTAMP | VD_META_PREFIX);
	assert_string_equal(q->prefix, prefix);
	assert_int_equal(q->mark, p->mark);
	assert_int_equal(q->indev, p->indev);
	assert_int_equal(q->outdev, p->outdev);
	assert_int_equal(q->uid, p->uid);
	assert_int_equal(q->gid, p->gid);
	assert_int_equal(q->queue, p->queue);
	assert_int_equal(q->hook, p->hook);
	assert_int_equal(q->family, p->ip_version == 4 ? AF_INET : AF_INET6);
	assert_int_equal(q->hw_protocol, p->ip_version == 4 ? 0x0800 : 0x86dd);
}

/* Writes a v4 packet with metadata and a v6 one with other metadata, reads
 * them back, and checks what each link type keeps. */
static void round_trip(enum vd_pcap_linktype lt)
{
	struct vd_pcap_out *o = vd_pcap_out_open(path, lt, err, sizeof(err));
	struct vd_capture *c;
	struct vd_packet p4, p6, q;
	uint64_t before = now_ns() / 1000 * 1000, after;

	assert_non_null(o);
	view(&p4, b4, n4);
	p4.meta |= VD_META_MARK | VD_META_INDEV | VD_META_UID | VD_META_TIMESTAMP | VD_META_PREFIX;
	p4.mark = 0x10, p4.indev = 3, p4.uid = 1000, p4.queue = 5, p4.hook = 1;
	p4.timestamp_ns = 1700000000123456000ull;
	p4.prefix = "not-this"; /* the argument wins */
	view(&p6, b6, n6);
	p6.meta |= VD_META_PREFIX | VD_META_OUTDEV | VD_META_GID; /* no timestamp: now */
	p6.prefix = "from-prefix", p6.outdev = 4, p6.gid = 100, p6.queue = 7;
	assert_int_equal(vd_pcap_out_write(o, &p4, "rule-a"), 0);
	assert_int_equal(vd_pcap_out_write(o, &p6, NULL), 0);
	assert_int_equal(vd_pcap_out_flush(o), 0);
	after = now_ns();
	assert_int_equal(vd_pcap_out_written(o), 2);
	assert_int_equal(vd_pcap_out_errors(o), 0);
	vd_pcap_out_close(o);

	c = reader(path);
	assert_int_equal(vd_capture_linktype(c), lt == VD_PCAP_NFLOG ? DLT_NFLOG : DLT_RAW);
	assert_int_equal(next(c, &q), 1);
	same(&q, &p4, lt == VD_PCAP_NFLOG, "rule-a");
	assert_int_equal(q.timestamp_ns, p4.timestamp_ns);
	assert_int_equal(next(c, &q), 1);
	same(&q, &p6, lt == VD_PCAP_NFLOG, "from-prefix");
	assert_int_equal(q.tcp_flags, VD_TCP_SYN);
	assert_in_range(q.timestamp_ns, before, after);
	assert_int_equal(next(c, &q), 0);
	assert_int_equal(vd_capture_skipped(c), 0);
	vd_capture_close(c);
}

static void test_round_trip_nflog(void **state)
{
	(void)state;
	round_trip(VD_PCAP_NFLOG);
}

static void test_round_trip_raw(void **state)
{
	(void)state;
	round_trip(VD_PCAP_RAW);
}

/* A packet longer than a record: cut, original length kept; a long prefix
 * cut and still terminated. */
static void test_long_packet_and_prefix_are_cut(void **state)
{
	enum { BIG = 70000 };
	uint8_t *big = calloc(1, BIG);
	char prefix[300];
	struct vd_pcap_out *o;
	struct vd_capture *c;
	struct vd_packet p, q;

	(void)state;
	assert_non_null(big);
	memcpy(big, b4, n4);
	memset(prefix, 'p', sizeof(prefix) - 1);
	prefix[sizeof(prefix) - 1] = '\0';
	for (int lt = VD_PCAP_NFLOG; lt <= VD_PCAP_RAW; lt++) {
		o = vd_pcap_out_open(path, (enum vd_pcap_linktype)lt, err, sizeof(err));
		assert_non_null(o);
		vd_packet_view_init(&p, big, BIG, BIG);
		vd_packet_parse(&p);
		assert_int_equal(vd_pcap_out_write(o, &p, prefix), 0);
		vd_pcap_out_close(o);
		c = reader(path);
		assert_int_equal(next(c, &q), 1);
		assert_in_range(q.caplen, 65535 - 300 - 20, 65535);
		assert_int_equal(q.len, BIG);
		assert_true(q.flags & VD_PACKET_TRUNCATED);
		assert_memory_equal(q.data, big, q.caplen);
		if (lt == VD_PCAP_NFLOG)
			assert_int_equal(strlen(q.prefix), 255);
		vd_capture_close(c);
	}
	free(big);
}

struct frame {
	const uint8_t *data;
	uint32_t caplen, len; /* len 0: caplen */
};

/* A file of frames with link type dlt, written with libpcap directly. */
static void write_frames(int dlt, const struct frame *fr, int n)
{
	pcap_t *dead = pcap_open_dead(dlt, 65535);
	pcap_dumper_t *d = pcap_dump_open(dead, path);

	assert_non_null(d);
	for (int i = 0; i < n; i++) {
		struct pcap_pkthdr h = { .caplen = fr[i].caplen,
					 .len = fr[i].len ? fr[i].len : fr[i].caplen };

		pcap_dump((u_char *)d, &h, fr[i].data);
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

static void test_ethernet_vlan_arp_short(void **state)
{
	uint8_t plain[14 + VT_PACKET_MAX], qinq[22 + VT_PACKET_MAX], arp[42] = { 0 };
	const struct frame fr[] = {
		{ plain, (uint32_t)(14 + n4), 0 }, { arp, sizeof(arp), 0 },
		{ qinq, (uint32_t)(22 + n6), 0 }, { plain, 10, 0 }, /* too short */
		{ plain, 14 + 20, (uint32_t)(14 + n4) },         /* cut by snaplen */
	};
	struct vd_capture *c;
	struct vd_packet q;

	(void)state;
	memset(plain, 0xaa, 12);
	plain[12] = 0x08, plain[13] = 0x00;
	memcpy(plain + 14, b4, n4);
	memset(qinq, 0xbb, 12);
	memcpy(qinq + 12, "\x88\xa8\x00\x07\x81\x00\x00\x2a\x86\xdd", 10);
	memcpy(qinq + 22, b6, n6);
	arp[12] = 0x08, arp[13] = 0x06;
	write_frames(DLT_EN10MB, fr, 5);

	c = reader(path);
	assert_int_equal(next(c, &q), 1);
	assert_int_equal(q.dport, 9999);
	assert_int_equal(q.len, n4);
	assert_int_equal(next(c, &q), 1);
	assert_int_equal(q.ip_version, 6);
	assert_memory_equal(q.data, b6, n6);
	assert_int_equal(q.dport, 443);
	assert_int_equal(next(c, &q), 1);
	assert_int_equal(q.caplen, 20);
	assert_int_equal(q.len, n4);
	assert_true(q.flags & VD_PACKET_TRUNCATED);
	assert_int_equal(q.ip_version, 4);
	assert_int_equal(next(c, &q), 0);
	assert_int_equal(vd_capture_skipped(c), 2); /* ARP and the short frame */
	vd_capture_close(c);
}

/* Each link type: a header in front of b4, and one frame of the same link
 * type that carries no IP (skipped). */
static void test_cooked_loopback_and_raw(void **state)
{
	static const struct {
		int dlt;
		uint8_t hlen;
		uint8_t ip[20], other[20];
	} cases[] = {
		{ DLT_LINUX_SLL, 16, { [14] = 0x08, [15] = 0x00 }, { [14] = 0x08, [15] = 0x06 } },
		{ DLT_LINUX_SLL2, 20, { 0x86, 0xdd }, { 0x08, 0x06 } }, /* ip: v4 behind 86dd */
		{ DLT_NULL, 4, { 2, 0, 0, 0 }, { 7, 0, 0, 0 } },        /* little-endian writer */
		{ DLT_NULL, 4, { 0, 0, 0, 30 }, { 0, 0, 0, 7 } },       /* big-endian macOS v6 */
		{ DLT_LOOP, 4, { 0, 0, 0, 24 }, { 0, 0, 0, 17 } },
		{ DLT_IPV4, 0, { 0 }, { 0 } },
		{ DLT_IPV6, 0, { 0 }, { 0 } },
	};
	uint8_t frame[20 + VT_PACKET_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame fr[2] = { { frame, (uint32_t)(cases[i].hlen + n4), 0 },
				       { cases[i].other, cases[i].hlen ? 20 : 0, 0 } };
		struct vd_capture *c;
		struct vd_packet q;

		memcpy(frame, cases[i].ip, cases[i].hlen);
		memcpy(frame + cases[i].hlen, b4, n4);
		write_frames(cases[i].dlt, fr, 2);
		c = reader(path);
		assert_int_equal(vd_capture_linktype(c), cases[i].dlt);
		assert_int_equal(next(c, &q), 1);
		assert_int_equal(q.caplen, n4);
		assert_int_equal(q.dport, 9999);
		assert_int_equal(next(c, &q), 0);
		assert_int_equal(vd_capture_skipped(c), 1);
		vd_capture_close(c);
	}
}

/* libpcap writes no pcapng: a hand-made one, raw IP, nanosecond stamps. */
static void test_pcapng(void **state)
{
	static const uint32_t shb[] = { 0x0a0d0d0a, 28, 0x1a2b3c4d, 1, 0xffffffff, 0xffffffff, 28 };
	/* IDB: LINKTYPE_RAW, snaplen, if_tsresol = 9 (ns), end of options. */
	static const uint32_t idb[] = { 1, 32, 101, 65535, 9 | 1u << 16, 9, 0, 32 };
	uint64_t ts = 1700000000123456789ull;
	uint32_t epb[7] = { 6, 0, 0, (uint32_t)(ts >> 32), (uint32_t)ts, (uint32_t)n4,
			    (uint32_t)n4 };
	uint32_t total = (uint32_t)(sizeof(epb) + ((n4 + 3) & ~3u) + 4), pad = 0;
	struct vd_capture *c;
	struct vd_packet q;
	FILE *f = fopen(path, "w");

	(void)state;
	assert_non_null(f);
	epb[1] = total;
	fwrite(shb, sizeof(shb), 1, f);
	fwrite(idb, sizeof(idb), 1, f);
	fwrite(epb, sizeof(epb), 1, f);
	fwrite(b4, n4, 1, f);
	fwrite(&pad, (4 - n4 % 4) % 4, 1, f);
	fwrite(&total, 4, 1, f);
	assert_int_equal(fclose(f), 0);

	c = reader(path);
	assert_int_equal(vd_capture_linktype(c), DLT_RAW);
	assert_int_equal(next(c, &q), 1);
	assert_memory_equal(q.data, b4, n4);
	assert_int_equal(q.timestamp_ns, ts);
	assert_int_equal(next(c, &q), 0);
	vd_capture_close(c);
}

/* Appends a TLV to an NFLOG record under construction. */
static size_t tlv(uint8_t *rec, size_t off, uint16_t len, uint16_t type, const void *v, size_t n)
{
	uint16_t tl[2] = { len, type };

	memcpy(rec + off, tl, 4);
	memcpy(rec + off + 4, v, n);
	return off + ((4 + n + 3) & ~(size_t)3);
}

static void test_nflog_broken_tlvs(void **state)
{
	uint8_t past[64] = { 2, 0, 0, 5 }, zero[64] = { 2, 0, 0, 5 }, version[64] = { 2, 1, 0, 5 };
	uint8_t noterm[128] = { 2, 0, 0, 5 }, cut[128] = { 2, 0, 0, 5 }, none[16] = { 2, 0, 0, 5 };
	uint32_t mark = htonl(9);
	size_t nt, ct;
	struct vd_capture *c;
	struct vd_packet q;

	(void)state;
	tlv(past, 4, 200, NFULA_PAYLOAD, b4, 40);  /* beyond the record */
	tlv(zero, 4, 0, NFULA_MARK, &mark, 4);     /* would loop forever */
	tlv(version, 4, 4 + (uint16_t)n4, NFULA_PAYLOAD, b4, n4);
	nt = tlv(noterm, 4, 8, NFULA_PREFIX, "abcd", 4);
	nt = tlv(noterm, nt, 4 + (uint16_t)n4, NFULA_PAYLOAD, b4, n4);
	ct = tlv(cut, 4, 4 + (uint16_t)n4, NFULA_PAYLOAD, b4, 24); /* snaplen 28 */
	tlv(none, 4, 8, NFULA_MARK, &mark, 4);     /* no payload at all */
	const struct frame fr[] = {
		{ past, sizeof(past), 0 }, { zero, sizeof(zero), 0 }, { version, sizeof(version), 0 },
		{ noterm, (uint32_t)nt, 0 }, { cut, (uint32_t)ct, (uint32_t)(8 + n4) },
		{ none, sizeof(none), 0 },
	};
	write_frames(DLT_NFLOG, fr, 6);

	c = reader(path);
	assert_int_equal(next(c, &q), 1);
	assert_memory_equal(q.data, b4, n4);
	assert_null(q.prefix);
	assert_false(q.meta & VD_META_PREFIX);
	assert_int_equal(q.queue, 5);
	assert_int_equal(next(c, &q), 1);
	assert_int_equal(q.caplen, 24);
	assert_int_equal(q.len, n4);
	assert_true(q.flags & VD_PACKET_TRUNCATED);
	assert_int_equal(next(c, &q), 0);
	assert_int_equal(vd_capture_skipped(c), 4);
	vd_capture_close(c);
}

static void test_refusals(void **state)
{
	const struct frame fr[] = { { b4, (uint32_t)n4, 0 } };
	char want[400];
	FILE *f;

	(void)state;
	write_frames(DLT_IEEE802_11, fr, 1);
	assert_null(vd_capture_open(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: link type IEEE802_11 (105) is not supported (raw IP, "
		 "Ethernet, Linux cooked v1/v2, NFLOG, BSD loopback)", path);
	assert_string_equal(err, want);

	assert_null(vd_capture_open("/nonexistent/x.pcap", err, sizeof(err)));
	assert_string_equal(err, "/nonexistent/x.pcap: No such file or directory");

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a capture file at all, just some text\n", f);
	fclose(f);
	assert_null(vd_capture_open(path, err, sizeof(err)));
	assert_ptr_equal(strstr(err, path), err);

	assert_null(vd_pcap_out_open("/nonexistent/x.pcap", VD_PCAP_NFLOG, err, sizeof(err)));
	assert_string_equal(err, "/nonexistent/x.pcap: cannot open for writing: "
			    "No such file or directory");
}

static void test_truncated_file(void **state)
{
	const struct frame fr[] = { { b4, (uint32_t)n4, 0 }, { b6, (uint32_t)n6, 0 } };
	struct vd_capture *c;
	struct vd_packet q;
	struct stat st;
	char want[200];

	(void)state;
	write_frames(DLT_RAW, fr, 2);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - (off_t)n6 / 2), 0);
	c = reader(path);
	assert_int_equal(next(c, &q), 1);
	assert_int_equal(next(c, &q), -1);
	snprintf(want, sizeof(want), "%s: record 2: ", path);
	assert_memory_equal(err, want, strlen(want));
	assert_non_null(strstr(err, "truncated"));
	vd_capture_close(c);
}

static void test_full_disk_is_counted(void **state)
{
	struct vd_pcap_out *o = vd_pcap_out_open("/dev/full", VD_PCAP_RAW, err, sizeof(err));
	struct vd_packet p;
	int i, ret = 0;

	(void)state;
	assert_non_null(o);
	view(&p, b4, n4);
	/* stdio buffers: the failure shows when its buffer is written out. */
	for (i = 0; i < 100000 && ret == 0; i++)
		ret = vd_pcap_out_write(o, &p, NULL);
	assert_int_equal(ret, -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(vd_pcap_out_errors(o), i); /* every record given so far */
	assert_int_equal(vd_pcap_out_written(o), 0);
	assert_int_equal(vd_pcap_out_write(o, &p, NULL), 0); /* buffered again */
	assert_int_equal(vd_pcap_out_flush(o), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(vd_pcap_out_errors(o), i + 1);
	vd_pcap_out_close(o);
}

/* Reads file and checks it holds exactly the IP versions in want. */
static void expect_versions(const char *file, const char *want)
{
	struct vd_capture *c = reader(file);
	struct vd_packet q;

	for (; *want; want++) {
		assert_int_equal(next(c, &q), 1);
		assert_int_equal(q.ip_version, *want - '0');
	}
	assert_int_equal(next(c, &q), 0);
	vd_capture_close(c);
}

/* RLIMIT_FSIZE cuts a write short as a full disk does: part written, then
 * EFBIG. teardown sets the limit back if an assert fails. */
static struct rlimit saved_limit;
static bool limited;

static void limit_file_size(off_t bytes)
{
	struct rlimit small;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved_limit), 0);
	small = saved_limit;
	small.rlim_cur = (rlim_t)bytes;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	limited = true;
}

static void unlimit_file_size(void)
{
	if (limited)
		setrlimit(RLIMIT_FSIZE, &saved_limit);
	signal(SIGXFSZ, SIG_DFL);
	limited = false;
}

/* Writes that fail partway, first in the file header, then in the middle:
 * the file is cut back to whole records each time and holds exactly the
 * records counted as written. */
static void test_failed_write_keeps_file_readable(void **state)
{
	struct vd_pcap_out *o;
	struct vd_packet p4, p6;
	struct stat st;
	int i, ret = 0;

	(void)state;
	view(&p4, b4, n4);
	view(&p6, b6, n6);
	limit_file_size(10); /* the header's flush at open writes 10 bytes */
	o = vd_pcap_out_open(path, VD_PCAP_NFLOG, err, sizeof(err));
	assert_non_null(o);
	unlimit_file_size();
	for (i = 0; i < 3; i++)
		assert_int_equal(vd_pcap_out_write(o, &p4, "x"), 0);
	assert_int_equal(vd_pcap_out_flush(o), 0);
	assert_int_equal(stat(path, &st), 0);
	limit_file_size(st.st_size + 100);
	for (i = 0; i < 100000 && ret == 0; i++)
		ret = vd_pcap_out_write(o, &p4, "x");
	if (ret == 0)
		ret = vd_pcap_out_flush(o);
	unlimit_file_size();
	assert_int_equal(ret, -1);
	assert_int_equal(errno, EFBIG);
	for (i = 0; i < 2; i++)
		assert_int_equal(vd_pcap_out_write(o, &p6, "x"), 0);
	assert_int_equal(vd_pcap_out_flush(o), 0);
	assert_int_equal(vd_pcap_out_written(o), 5);
	assert_true(vd_pcap_out_errors(o) >= 1);
	vd_pcap_out_close(o);
	expect_versions(path, "44466");
}

/* logrotate moves the file away, SIGHUP reopens: a fresh file; a reopen
 * that fails leaves the output closed (counted) until one succeeds. */
static void test_reopen(void **state)
{
	char sub[96], file[128], moved[160];
	struct vd_pcap_out *o;
	struct vd_packet p4, p6;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(file, sizeof(file), "%s/t.pcap", sub);
	snprintf(moved, sizeof(moved), "%s.1", path);
	assert_int_equal(mkdir(sub, 0700), 0);
	o = vd_pcap_out_open(file, VD_PCAP_NFLOG, err, sizeof(err));
	assert_non_null(o);
	view(&p4, b4, n4);
	view(&p6, b6, n6);
	assert_int_equal(vd_pcap_out_write(o, &p4, NULL), 0);
	assert_int_equal(rename(file, moved), 0); /* as logrotate does */
	assert_int_equal(vd_pcap_out_reopen(o, err, sizeof(err)), 0);
	assert_int_equal(vd_pcap_out_written(o), 1); /* flushed into the moved file */
	assert_int_equal(vd_pcap_out_write(o, &p6, NULL), 0);
	assert_int_equal(vd_pcap_out_flush(o), 0);
	expect_versions(moved, "4");
	expect_versions(file, "6");

	assert_int_equal(unlink(file), 0);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(vd_pcap_out_reopen(o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, file));
	assert_int_equal(vd_pcap_out_write(o, &p4, NULL), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(vd_pcap_out_flush(o), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(vd_pcap_out_errors(o), 1);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(vd_pcap_out_reopen(o, err, sizeof(err)), 0);
	assert_int_equal(vd_pcap_out_write(o, &p4, NULL), 0);
	assert_int_equal(vd_pcap_out_write(o, &p6, NULL), 0);
	vd_pcap_out_close(o);
	expect_versions(file, "46");
}

static struct vd_pcap_out *shared;

static void *writer(void *arg)
{
	struct vd_packet *p = arg;
	intptr_t failed = 0;

	for (int i = 0; i < 2000; i++) {
		failed += vd_pcap_out_write(shared, p, "thread") != 0;
		if (i % 64 == 63) /* as each worker does after a batch */
			failed += vd_pcap_out_flush(shared) != 0;
	}
	return (void *)failed;
}

/* Four threads at once: every record whole, none lost. */
static void test_concurrent_writers(void **state)
{
	struct vd_packet p[2], q;
	pthread_t t[4];
	struct vd_capture *c;
	void *failed;
	int ret, n = 0;

	(void)state;
	shared = vd_pcap_out_open(path, VD_PCAP_NFLOG, err, sizeof(err));
	assert_non_null(shared);
	view(&p[0], b4, n4);
	view(&p[1], b6, n6);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, &p[i % 2]), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &failed), 0);
		assert_null(failed);
	}
	vd_pcap_out_close(shared);
	c = reader(path);
	while ((ret = next(c, &q)) == 1 && q.parse_error == VD_PARSE_OK &&
	       q.caplen == (q.ip_version == 4 ? n4 : n6))
		n++;
	assert_int_equal(ret, 0);
	assert_int_equal(n, 8000);
	vd_capture_close(c);
}

static void test_tcpdump_reads_nflog_files(void **state)
{
	char cmd[256], line[512];
	struct vd_pcap_out *o;
	struct vd_packet p;
	FILE *f;
	int lines = 0, v4 = 0, v6 = 0;

	(void)state;
	if (access("/usr/bin/tcpdump", X_OK) != 0 && access("/usr/sbin/tcpdump", X_OK) != 0)
		skip();
	o = vd_pcap_out_open(path, VD_PCAP_NFLOG, err, sizeof(err));
	assert_non_null(o);
	view(&p, b4, n4);
	p.meta |= VD_META_MARK;
	p.mark = 7;
	for (int i = 0; i < 3; i++)
		assert_int_equal(vd_pcap_out_write(o, &p, "x"), 0);
	view(&p, b6, n6);
	assert_int_equal(vd_pcap_out_write(o, &p, "x"), 0);
	vd_pcap_out_close(o);
	snprintf(cmd, sizeof(cmd), "PATH=/usr/sbin:/usr/bin:$PATH tcpdump -nr %s 2>/dev/null", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		lines++;
		v4 += strstr(line, " IP 198.18.0.1.1000 > 198.19.0.2.9999: UDP") != NULL;
		v6 += strstr(line, " IP6 2001:db8::1.40000 > 2001:db8::2.443: Flags [S]") != NULL;
	}
	assert_int_equal(pclose(f), 0);
	assert_int_equal(lines, 4);
	assert_int_equal(v4, 3);
	assert_int_equal(v6, 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_round_trip_nflog),
		T(test_round_trip_raw),
		T(test_long_packet_and_prefix_are_cut),
		T(test_ethernet_vlan_arp_short),
		T(test_cooked_loopback_and_raw),
		T(test_pcapng),
		T(test_nflog_broken_tlvs),
		T(test_refusals),
		T(test_truncated_file),
		T(test_full_disk_is_counted),
		T(test_failed_write_keeps_file_readable),
		T(test_reopen),
		T(test_concurrent_writers),
		T(test_tcpdump_reads_nflog_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
