/* test_capture.c - the pcap writer (engine/pcap_out.c) and the capture reader
 * (engine/capture.c): round trips in both link types, the link types of
 * other tools' captures, and every way a file can be wrong. */
#define _GNU_SOURCE /* mkdtemp */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <pcap/pcap.h>

#include "capture.h"
#include "helpers.h"
#include "pcap_out.h"

static char dir[64], path[128], err[512];
static uint8_t b4[VT_PACKET_MAX], b6[VT_PACKET_MAX];
static size_t n4, n6;

static int setup(void **state)
{
	struct vt_l4 udp = { .proto = IPPROTO_UDP, .sport = 1000, .dport = 53, .payload_len = 20 };
	struct vt_l4 tcp = { .proto = IPPROTO_TCP, .sport = 40000, .dport = 443,
			     .tcp_flags = VD_TCP_SYN };

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vd-capture-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.pcap", dir);
	n4 = vt_ipv4_build(b4, sizeof(b4), &(struct vt_ipv4){ .src = "198.18.0.1" }, &udp);
	n6 = vt_ipv6_build(b6, sizeof(b6), &(struct vt_ipv6){ .src = "2001:db8::1" }, &tcp);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void view(struct vd_packet *p, const uint8_t *b, size_t n)
{
	assert_int_equal(vt_parse(p, b, n, n), VD_PARSE_OK);
}

/* Writes a v4 packet with metadata and a v6 one; reads them back. */
static void round_trip(enum vd_pcap_linktype lt)
{
	struct vd_pcap_out *o = vd_pcap_out_open(path, lt, err, sizeof(err));
	struct vd_capture *c;
	struct vd_packet p, q;

	assert_non_null(o);
	view(&p, b4, n4);
	p.meta |= VD_META_MARK | VD_META_INDEV | VD_META_UID | VD_META_TIMESTAMP;
	p.mark = 0x10;
	p.indev = 3;
	p.uid = 1000;
	p.queue = 5;
	p.timestamp_ns = 1700000000123456000ull;
	assert_int_equal(vd_pcap_out_write(o, &p, "rule-a"), 0);
	view(&p, b6, n6);
	p.meta |= VD_META_PREFIX;
	p.prefix = "from-prefix";
	assert_int_equal(vd_pcap_out_write(o, &p, NULL), 0);
	assert_int_equal(vd_pcap_out_written(o), 2);
	vd_pcap_out_close(o);

	c = vd_capture_open(path, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(vd_capture_linktype(c), lt == VD_PCAP_NFLOG ? DLT_NFLOG : DLT_RAW);
	assert_int_equal(vd_capture_next(c, &q, err, sizeof(err)), 1);
	assert_int_equal(q.source, VD_SOURCE_REPLAY);
	assert_int_equal(q.caplen, n4);
	assert_memory_equal(q.data, b4, n4);
	assert_int_equal(q.dport, 53);
	assert_int_equal(q.timestamp_ns, 1700000000123456000ull);
	if (lt == VD_PCAP_NFLOG) {
		assert_string_equal(q.prefix, "rule-a");
		assert_int_equal(q.mark, 0x10);
		assert_int_equal(q.indev, 3);
		assert_int_equal(q.uid, 1000);
		assert_int_equal(q.queue, 5);
	}
	assert_int_equal(vd_capture_next(c, &q, err, sizeof(err)), 1);
	assert_int_equal(q.ip_version, 6);
	assert_int_equal(q.dport, 443);
	assert_int_equal(q.tcp_flags, VD_TCP_SYN);
	if (lt == VD_PCAP_NFLOG)
		assert_string_equal(q.prefix, "from-prefix");
	assert_int_equal(vd_capture_next(c, &q, err, sizeof(err)), 0);
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

/* A file of frames with link type dlt, written with libpcap directly. */
static void write_frames(int dlt, const uint8_t *const *frames, const size_t *lens, int n)
{
	pcap_t *dead = pcap_open_dead(dlt, 65535);
	pcap_dumper_t *d = pcap_dump_open(dead, path);

	assert_non_null(d);
	for (int i = 0; i < n; i++) {
		struct pcap_pkthdr h = { .caplen = (bpf_u_int32)lens[i], .len = (bpf_u_int32)lens[i] };

		pcap_dump((u_char *)d, &h, frames[i]);
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

static void test_ethernet_with_vlan_and_arp(void **state)
{
	uint8_t plain[14 + VT_PACKET_MAX], tagged[18 + VT_PACKET_MAX], arp[42] = { 0 };
	const uint8_t *frames[] = { plain, arp, tagged };
	size_t lens[] = { 14 + n4, sizeof(arp), 18 + n6 };
	struct vd_capture *c;
	struct vd_packet q;

	(void)state;
	memset(plain, 0xaa, 12);
	plain[12] = 0x08, plain[13] = 0x00;
	memcpy(plain + 14, b4, n4);
	memset(tagged, 0xbb, 12);
	tagged[12] = 0x81, tagged[13] = 0x00, tagged[14] = 0, tagged[15] = 42;
	tagged[16] = 0x86, tagged[17] = 0xdd;
	memcpy(tagged + 18, b6, n6);
	arp[12] = 0x08, arp[13] = 0x06;
	write_frames(DLT_EN10MB, frames, lens, 3);

	c = vd_capture_open(path, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(vd_capture_next(c, &q, err, sizeof(err)), 1);
	assert_int_equal(q.dport, 53);
	assert_int_equal(vd_capture_next(c, &q, err, sizeof(err)), 1);
	assert_int_equal(q.ip_version, 6);
	assert_int_equal(q.dport, 443);
	assert_int_equal(vd_capture_next(c, &q, err, sizeof(err)), 0);
	assert_int_equal(vd_capture_skipped(c), 1); /* the ARP frame */
	vd_capture_close(c);
}

static void test_linux_cooked(void **state)
{
	uint8_t sll[16 + VT_PACKET_MAX] = { 0 };
	const uint8_t *frames[] = { sll };
	size_t lens[] = { 16 + n4 };
	struct vd_capture *c;
	struct vd_packet q;

	(void)state;
	sll[14] = 0x08, sll[15] = 0x00;
	memcpy(sll + 16, b4, n4);
	write_frames(DLT_LINUX_SLL, frames, lens, 1);
	c = vd_capture_open(path, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(vd_capture_next(c, &q, err, sizeof(err)), 1);
	assert_int_equal(q.dport, 53);
	vd_capture_close(c);
}

static void test_bad_nflog_tlv_is_skipped(void **state)
{
	uint8_t rec[64] = { 2, 0, 0, 5 };
	uint16_t tl[2] = { 200, 9 }; /* a payload TLV longer than the record */
	const uint8_t *frames[] = { rec };
	size_t lens[] = { sizeof(rec) };
	struct vd_capture *c;
	struct vd_packet q;

	(void)state;
	memcpy(rec + 4, tl, 4);
	write_frames(DLT_NFLOG, frames, lens, 1);
	c = vd_capture_open(path, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(vd_capture_next(c, &q, err, sizeof(err)), 0);
	assert_int_equal(vd_capture_skipped(c), 1);
	vd_capture_close(c);
}

static void test_refusals(void **state)
{
	const uint8_t *frames[] = { b4 };
	size_t lens[] = { n4 };
	struct vd_capture *c;
	struct vd_packet q;
	FILE *f;
	long size;

	(void)state;
	write_frames(DLT_IEEE802_11, frames, lens, 1);
	assert_null(vd_capture_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "is not supported"));
	assert_non_null(strstr(err, path));

	assert_null(vd_capture_open("/nonexistent/x.pcap", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/x.pcap"));

	/* A file cut in the middle of its last record. */
	write_frames(DLT_RAW, frames, lens, 1);
	f = fopen(path, "r+");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	assert_int_equal(ftruncate(fileno(f), size - (long)n4 / 2), 0);
	fclose(f);
	c = vd_capture_open(path, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(vd_capture_next(c, &q, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "record 1"));
	vd_capture_close(c);

	assert_null(vd_pcap_out_open("/nonexistent/x.pcap", VD_PCAP_NFLOG, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/x.pcap: cannot open for writing"));
}

static void test_full_disk_is_counted(void **state)
{
	struct vd_pcap_out *o = vd_pcap_out_open("/dev/full", VD_PCAP_RAW, err, sizeof(err));
	struct vd_packet p;
	int failed = 0;

	(void)state;
	assert_non_null(o);
	view(&p, b4, n4);
	/* stdio buffers: the failure shows when the buffer is written out. */
	for (int i = 0; i < 1000 && !failed; i++)
		failed = vd_pcap_out_write(o, &p, NULL) < 0;
	if (!failed)
		failed = vd_pcap_out_flush(o) < 0;
	assert_true(failed);
	assert_int_equal(errno, ENOSPC);
	vd_pcap_out_close(o);
}

static void test_reopen_starts_a_fresh_file(void **state)
{
	struct vd_pcap_out *o = vd_pcap_out_open(path, VD_PCAP_NFLOG, err, sizeof(err));
	char moved[160];
	struct vd_capture *c;
	struct vd_packet p, q;

	(void)state;
	assert_non_null(o);
	view(&p, b4, n4);
	assert_int_equal(vd_pcap_out_write(o, &p, NULL), 0);
	snprintf(moved, sizeof(moved), "%s.1", path); /* as logrotate does */
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(vd_pcap_out_reopen(o, err, sizeof(err)), 0);
	view(&p, b6, n6);
	assert_int_equal(vd_pcap_out_write(o, &p, NULL), 0);
	vd_pcap_out_close(o);
	c = vd_capture_open(path, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(vd_capture_next(c, &q, err, sizeof(err)), 1);
	assert_int_equal(q.ip_version, 6);
	assert_int_equal(vd_capture_next(c, &q, err, sizeof(err)), 0);
	vd_capture_close(c);
}

static void test_tcpdump_reads_nflog_files(void **state)
{
	char cmd[256], line[512];
	struct vd_pcap_out *o;
	struct vd_packet p;
	FILE *f;
	int lines = 0;

	(void)state;
	if (access("/usr/bin/tcpdump", X_OK) != 0 && access("/usr/sbin/tcpdump", X_OK) != 0)
		skip();
	o = vd_pcap_out_open(path, VD_PCAP_NFLOG, err, sizeof(err));
	assert_non_null(o);
	view(&p, b4, n4);
	for (int i = 0; i < 3; i++)
		assert_int_equal(vd_pcap_out_write(o, &p, "x"), 0);
	view(&p, b6, n6);
	assert_int_equal(vd_pcap_out_write(o, &p, "x"), 0);
	vd_pcap_out_close(o);
	snprintf(cmd, sizeof(cmd), "PATH=/usr/sbin:/usr/bin:$PATH tcpdump -nr %s 2>/dev/null", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		lines += strstr(line, " IP") != NULL;
	assert_int_equal(pclose(f), 0);
	assert_int_equal(lines, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_nflog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_raw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ethernet_with_vlan_and_arp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linux_cooked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_nflog_tlv_is_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk_is_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_starts_a_fresh_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcpdump_reads_nflog_files, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
