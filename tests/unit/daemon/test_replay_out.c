/* test_replay_out.c - the --write-pcap file of a replay
 * (engine/daemon/replay_out.c): for each link type, a rewritten packet is
 * put back into its record (link header, VLAN tag, NFLOG attributes before
 * and after the payload, whose length and padding follow the new packet),
 * records without an edit are copied byte for byte (a cut one keeps its
 * original length), timestamps and their precision are the input's; the
 * NFLOG payload's 16-bit length bounds growth; a bad path is one line. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <linux/netfilter/nfnetlink_log.h>
#include <pcap/pcap.h>

#include "capture_fixture.h"
#include "replay_out.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

#define NREC 3
#define BASE_NS 1700000000123456789ull

struct record {
	uint8_t bytes[512];
	uint32_t caplen, len;
	uint32_t ip_off;   /* where b4 starts */
	uint32_t tail_off; /* NFLOG: the attribute after the payload's */
	uint64_t ns;
};

static uint8_t ipbuf[262144];

/* Appends one NFLOG TLV (host order) at b + *n. */
static void tlv(uint8_t *b, uint32_t *n, uint16_t type, const void *v, uint16_t len)
{
	uint16_t tl[2] = { (uint16_t)(4 + len), type };

	memcpy(b + *n, tl, 4);
	memcpy(b + *n + 4, v, len);
	*n += (4u + len + 3u) & ~3u;
}

/* Record i of link type dlt around the fixture's IPv4 UDP packet b4. */
static void record_make(struct record *r, int dlt, int i)
{
	static const uint8_t eth[] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0x00, 0x64,
				       0x08, 0x00 };
	static const uint8_t sll2[20] = { 0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1 };
	uint32_t n = 0, mark = htonl(0x2a);
	struct nfulnl_msg_packet_hdr ph = { .hw_protocol = htons(0x0800), .hook = 1 };

	memset(r, 0, sizeof(*r));
	switch (dlt) {
	case DLT_EN10MB: /* with an 802.1Q tag */
		memcpy(r->bytes, eth, sizeof(eth));
		n = sizeof(eth);
		break;
	case DLT_LINUX_SLL2:
		memcpy(r->bytes, sll2, sizeof(sll2));
		n = sizeof(sll2);
		break;
	case DLT_NFLOG:
		r->bytes[0] = AF_INET;
		n = 4;
		tlv(r->bytes, &n, NFULA_PACKET_HDR, &ph, sizeof(ph));
		tlv(r->bytes, &n, NFULA_PREFIX, "pre", 4);
		r->ip_off = n + 4;
		tlv(r->bytes, &n, NFULA_PAYLOAD, b4, (uint16_t)n4);
		r->tail_off = n;
		tlv(r->bytes, &n, NFULA_MARK, &mark, 4); /* after the payload */
		break;
	default:
		break;
	}
	if (dlt != DLT_NFLOG) {
		r->ip_off = n;
		memcpy(r->bytes + n, b4, n4);
		n += (uint32_t)n4;
	}
	r->caplen = r->len = n;
	if (i == 2) /* the last record cut by the snaplen */
		r->caplen = r->ip_off + 24;
	r->ns = BASE_NS + (uint64_t)i * 1000001u;
}

/* Writes the records to file with libpcap itself. */
static void input_write(const char *file, int dlt, bool nano, struct record *r)
{
	pcap_t *dead = pcap_open_dead_with_tstamp_precision(
		dlt, 65535, nano ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
	pcap_dumper_t *d = pcap_dump_open(dead, file);

	assert_non_null(d);
	for (int i = 0; i < NREC; i++) {
		struct pcap_pkthdr h = { .caplen = r[i].caplen, .len = r[i].len };

		h.ts.tv_sec = (time_t)(r[i].ns / 1000000000u);
		h.ts.tv_usec = (suseconds_t)(r[i].ns % 1000000000u / (nano ? 1u : 1000u));
		pcap_dump((u_char *)d, &h, r[i].bytes);
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

/* Replays file into out: record 0 edited (ttl 9, 5 payload bytes more),
 * the others as they are. Returns the edited packet's length; its bytes
 * are left in ipbuf. */
static uint32_t replay_through(const char *file, const char *out)
{
	static const uint8_t more[5] = "12345";
	struct vd_capture *c = reader(file);
	struct vd_replay_out *o = vd_replay_out_open(out, c, err, sizeof(err));
	struct vd_packet_edit edit;
	struct vd_packet p;
	uint32_t len;

	assert_non_null(o);
	assert_int_equal(vd_capture_next_copy(c, &p, ipbuf, sizeof(ipbuf), err, sizeof(err)), 1);
	assert_ptr_equal(p.data, ipbuf);
	assert_int_equal(vd_packet_edit_init(&edit, &p, ipbuf,
					     vd_replay_out_capacity(vd_capture_linktype(c)), 0), 0);
	assert_int_equal(vd_packet_edit_set_ttl(&edit, 9), 0);
	assert_int_equal(vd_packet_edit_replace_payload(&edit, 0, 0, more, sizeof(more)), 0);
	assert_int_equal(vd_replay_out_write(o, c, &p, &edit, err, sizeof(err)), 0);
	len = edit.len;
	for (int i = 1; i < NREC; i++) {
		assert_int_equal(vd_capture_next_copy(c, &p, ipbuf + 65536, 65536, err, sizeof(err)), 1);
		assert_int_equal(vd_replay_out_write(o, c, &p, NULL, err, sizeof(err)), 0);
	}
	assert_int_equal(vd_capture_next_copy(c, &p, ipbuf + 65536, 65536, err, sizeof(err)), 0);
	assert_int_equal(vd_replay_out_written(o), 0); /* gathered, not written yet */
	assert_int_equal(vd_replay_out_flush(o, err, sizeof(err)), 0);
	assert_int_equal(vd_replay_out_written(o), NREC);
	vd_replay_out_close(o);
	vd_capture_close(c);
	return len;
}

/* The file's first 4 bytes say nanoseconds. */
static bool file_is_nano(const char *file)
{
	FILE *f = fopen(file, "rb");
	uint32_t magic = 0;

	assert_non_null(f);
	assert_int_equal(fread(&magic, 4, 1, f), 1);
	fclose(f);
	return magic == 0xa1b23c4d;
}

static void check_edited(const struct record *r, int dlt, const uint8_t *rec,
			 const struct pcap_pkthdr *h, uint32_t iplen)
{
	uint32_t pad = (4 - iplen % 4) % 4, tail_len = r->len - r->tail_off;
	uint16_t tl[2];

	if (dlt != DLT_NFLOG) {
		assert_int_equal(h->caplen, r->ip_off + iplen);
		assert_memory_equal(rec, r->bytes, r->ip_off);
		assert_memory_equal(rec + r->ip_off, ipbuf, iplen);
		return;
	}
	assert_int_equal(h->caplen, r->ip_off + iplen + pad + tail_len);
	assert_memory_equal(rec, r->bytes, r->ip_off - 4);
	memcpy(tl, rec + r->ip_off - 4, 4);
	assert_int_equal(tl[0], 4 + iplen);
	assert_int_equal(tl[1], NFULA_PAYLOAD);
	assert_memory_equal(rec + r->ip_off, ipbuf, iplen);
	for (uint32_t i = 0; i < pad; i++)
		assert_int_equal(rec[r->ip_off + iplen + i], 0);
	assert_memory_equal(rec + r->ip_off + iplen + pad, r->bytes + r->tail_off, tail_len);
}

static void round_trip(int dlt, bool nano)
{
	struct record r[NREC];
	char in[160], out[160];
	char perr[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *rec;
	struct vd_capture *c;
	struct vd_packet q;
	uint32_t iplen;
	pcap_t *p;

	for (int i = 0; i < NREC; i++)
		record_make(&r[i], dlt, i);
	snprintf(in, sizeof(in), "%s/in-%d-%d.pcap", dir, dlt, nano);
	snprintf(out, sizeof(out), "%s/out-%d-%d.pcap", dir, dlt, nano);
	input_write(in, dlt, nano, r);
	iplen = replay_through(in, out);
	assert_int_equal(iplen, n4 + 5);
	assert_int_equal(file_is_nano(out), nano);

	p = pcap_open_offline_with_tstamp_precision(out, PCAP_TSTAMP_PRECISION_NANO, perr);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), dlt);
	for (int i = 0; i < NREC; i++) {
		uint64_t ns, want = nano ? r[i].ns : r[i].ns / 1000u * 1000u;

		assert_int_equal(pcap_next_ex(p, &h, &rec), 1);
		ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
		assert_int_equal(ns, want);
		if (i == 0) {
			assert_int_equal(h->len, h->caplen);
			check_edited(&r[0], dlt, rec, h, iplen);
			continue;
		}
		assert_int_equal(h->caplen, r[i].caplen);
		assert_int_equal(h->len, r[i].len);
		assert_memory_equal(rec, r[i].bytes, r[i].caplen);
	}
	assert_int_equal(pcap_next_ex(p, &h, &rec), PCAP_ERROR_BREAK);
	pcap_close(p);

	/* verdictd reads its own output back: the new packet, the metadata. */
	c = reader(out);
	assert_int_equal(next(c, &q), 1);
	assert_int_equal(q.ttl, 9);
	assert_int_equal(q.caplen, iplen);
	assert_int_equal(q.parse_error, VD_PARSE_OK);
	if (dlt == DLT_NFLOG) {
		assert_string_equal(q.prefix, "pre");
		assert_int_equal(q.mark, 0x2a);
	}
	vd_capture_close(c);
}

static void test_ethernet_vlan(void **state)
{
	(void)state;
	round_trip(DLT_EN10MB, false);
}

static void test_linux_cooked_v2_nanoseconds(void **state)
{
	(void)state;
	round_trip(DLT_LINUX_SLL2, true);
}

static void test_raw_ip(void **state)
{
	(void)state;
	round_trip(DLT_RAW, false);
	round_trip(DLT_RAW, true);
}

static void test_nflog_attributes_kept(void **state)
{
	(void)state;
	round_trip(DLT_NFLOG, false);
}

/* NFLOG: the payload attribute's length is 16 bits with its 4-byte header,
 * so an edit there may grow a packet to 65,531 bytes, and that one fits. */
static void test_nflog_largest_payload(void **state)
{
	static uint8_t fill[65536];
	struct record r[NREC];
	char in[160], out[160];
	struct vd_capture *c;
	struct vd_replay_out *o;
	struct vd_packet_edit edit;
	struct vd_packet p, q;
	uint32_t cap = vd_replay_out_capacity(DLT_NFLOG);

	(void)state;
	assert_int_equal(cap, 65531);
	assert_int_equal(vd_replay_out_capacity(DLT_EN10MB), 65535);
	assert_int_equal(vd_replay_out_capacity(DLT_RAW), 65535);
	for (int i = 0; i < NREC; i++)
		record_make(&r[i], DLT_NFLOG, i);
	snprintf(in, sizeof(in), "%s/big-in.pcap", dir);
	snprintf(out, sizeof(out), "%s/big-out.pcap", dir);
	input_write(in, DLT_NFLOG, false, r);
	c = reader(in);
	o = vd_replay_out_open(out, c, err, sizeof(err));
	assert_non_null(o);
	assert_int_equal(vd_capture_next_copy(c, &p, ipbuf, sizeof(ipbuf), err, sizeof(err)), 1);
	assert_int_equal(vd_packet_edit_init(&edit, &p, ipbuf, cap, 0), 0);
	/* One byte more than fits: refused, nothing changed. */
	assert_int_equal(vd_packet_edit_replace_payload(&edit, 0, 0, fill, cap - (uint32_t)n4 + 1),
			 -ENOBUFS);
	assert_int_equal(vd_packet_edit_replace_payload(&edit, 0, 0, fill, cap - (uint32_t)n4), 0);
	assert_int_equal(edit.len, cap);
	assert_int_equal(vd_replay_out_write(o, c, &p, &edit, err, sizeof(err)), 0);
	assert_int_equal(vd_replay_out_flush(o, err, sizeof(err)), 0);
	vd_replay_out_close(o);
	vd_capture_close(c);
	c = reader(out);
	assert_int_equal(next(c, &q), 1);
	assert_int_equal(q.caplen, cap);
	assert_int_equal(q.parse_error, VD_PARSE_OK);
	assert_int_equal(q.mark, 0x2a); /* the attribute after it was found */
	vd_capture_close(c);
}

static void test_bad_path(void **state)
{
	struct record r[NREC];
	char in[160];
	struct vd_capture *c;

	(void)state;
	for (int i = 0; i < NREC; i++)
		record_make(&r[i], DLT_RAW, i);
	snprintf(in, sizeof(in), "%s/in.pcap", dir);
	input_write(in, DLT_RAW, false, r);
	c = reader(in);
	assert_null(vd_replay_out_open("/nonexistent/dir/o.pcap", c, err, sizeof(err)));
	assert_string_equal(err, "--write-pcap /nonexistent/dir/o.pcap: cannot open for writing: "
				 "No such file or directory");
	vd_capture_close(c);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_ethernet_vlan),
		T(test_linux_cooked_v2_nanoseconds),
		T(test_raw_ip),
		T(test_nflog_attributes_kept),
		T(test_nflog_largest_payload),
		T(test_bad_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
