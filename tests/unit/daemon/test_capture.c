/* test_capture.c - the capture reader (engine/capture.c) on other tools'
 * captures: Ethernet with VLAN tags, Linux cooked, loopback, raw, hand-made
 * pcapng, broken NFLOG TLVs, refused link types, truncated files. */
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

#include "capture_fixture.h"

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

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_ethernet_vlan_arp_short),
		T(test_cooked_loopback_and_raw),
		T(test_pcapng),
		T(test_nflog_broken_tlvs),
		T(test_refusals),
		T(test_truncated_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
