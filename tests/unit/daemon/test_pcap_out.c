/* test_pcap_out.c - the pcap writer (engine/daemon/pcap_out.c), read back
 * with the capture reader: round trips in both link types, cuts, a buffer
 * too small, a full disk, writes cut short, logrotate, concurrent writers
 * each with its own buffer, tcpdump. */
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

/* A batch as a writer keeps it: records formatted into its own buffer, then
 * appended at once. */
struct batch {
	uint8_t buf[4 * VD_PCAP_RECORD_MAX];
	size_t len;
	uint64_t count;
};

static struct batch one;

static void add(struct batch *b, const struct vd_pcap_out *o, const struct vd_packet *p,
		const char *prefix)
{
	size_t n = vd_pcap_out_record(o, b->buf + b->len, sizeof(b->buf) - b->len, p, prefix);

	assert_true(n > 16);
	b->len += n;
	b->count++;
}

static int append(struct batch *b, struct vd_pcap_out *o)
{
	int ret = vd_pcap_out_append(o, b->buf, b->len, b->count);

	b->len = 0;
	b->count = 0;
	return ret;
}

/* One record alone in a batch. */
static int write_one(struct vd_pcap_out *o, const struct vd_packet *p, const char *prefix)
{
	add(&one, o, p, prefix);
	return append(&one, o);
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
	add(&one, o, &p4, "rule-a");
	add(&one, o, &p6, NULL);
	assert_int_equal(append(&one, o), 0);
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
		assert_int_equal(vd_pcap_out_record(o, one.buf, VD_PCAP_RECORD_MAX - 1, &p, prefix), 0);
		assert_int_equal(write_one(o, &p, prefix), 0);
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

static void test_full_disk_is_counted(void **state)
{
	struct vd_pcap_out *o = vd_pcap_out_open("/dev/full", VD_PCAP_RAW, err, sizeof(err));
	struct vd_packet p;

	(void)state;
	assert_non_null(o); /* the header could not go out: it waits */
	view(&p, b4, n4);
	for (int i = 0; i < 3; i++)
		add(&one, o, &p, NULL);
	assert_int_equal(append(&one, o), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(vd_pcap_out_errors(o), 3); /* every record of the batch */
	assert_int_equal(vd_pcap_out_written(o), 0);
	assert_int_equal(write_one(o, &p, NULL), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(vd_pcap_out_errors(o), 4);
	vd_pcap_out_close(o);
}

/* Writes that fail partway, first in the file header, then in the middle of
 * a batch: the file is cut back to whole records each time and holds exactly
 * the records counted as written. */
static void test_failed_write_keeps_file_readable(void **state)
{
	struct vd_pcap_out *o;
	struct vd_packet p4, p6;
	struct stat st;

	(void)state;
	view(&p4, b4, n4);
	view(&p6, b6, n6);
	limit_file_size(10); /* the header's write at open gets 10 bytes out */
	o = vd_pcap_out_open(path, VD_PCAP_NFLOG, err, sizeof(err));
	assert_non_null(o);
	unlimit_file_size();
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0); /* cut back: no half header */
	for (int i = 0; i < 3; i++)
		add(&one, o, &p4, "x");
	assert_int_equal(append(&one, o), 0); /* the header, then the records */
	assert_int_equal(stat(path, &st), 0);
	limit_file_size(st.st_size + 100);
	for (int i = 0; i < 5; i++) /* more than 100 bytes: cut short */
		add(&one, o, &p4, "x");
	assert_int_equal(append(&one, o), -1);
	assert_int_equal(errno, EFBIG);
	unlimit_file_size();
	assert_int_equal(vd_pcap_out_errors(o), 5);
	for (int i = 0; i < 2; i++)
		add(&one, o, &p6, "x");
	assert_int_equal(append(&one, o), 0);
	assert_int_equal(vd_pcap_out_written(o), 5);
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
	assert_int_equal(write_one(o, &p4, NULL), 0);
	add(&one, o, &p6, NULL); /* formatted before the reopen, written after */
	assert_int_equal(rename(file, moved), 0); /* as logrotate does */
	assert_int_equal(vd_pcap_out_reopen(o, err, sizeof(err)), 0);
	assert_int_equal(vd_pcap_out_written(o), 1);
	assert_int_equal(append(&one, o), 0);
	expect_versions(moved, "4");
	expect_versions(file, "6");

	assert_int_equal(unlink(file), 0);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(vd_pcap_out_reopen(o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, file));
	assert_int_equal(write_one(o, &p4, NULL), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(vd_pcap_out_append(o, NULL, 0, 0), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(vd_pcap_out_errors(o), 1);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(vd_pcap_out_reopen(o, err, sizeof(err)), 0);
	assert_int_equal(write_one(o, &p4, NULL), 0);
	assert_int_equal(write_one(o, &p6, NULL), 0);
	assert_int_equal(vd_pcap_out_written(o), 4);
	vd_pcap_out_close(o);
	expect_versions(file, "46");
}

static struct vd_pcap_out *shared;

/* A worker: its own buffer, one append per 64 records. */
static void *writer(void *arg)
{
	struct vd_packet *p = arg;
	struct batch *b = calloc(1, sizeof(*b));
	intptr_t failed = b == NULL;

	for (int i = 0; b && i < 2000; i++) {
		size_t n = vd_pcap_out_record(shared, b->buf + b->len, sizeof(b->buf) - b->len, p,
					      "thread");

		failed += n == 0;
		b->len += n;
		b->count++;
		if (i % 64 == 63 || i == 1999) /* as each worker does after a batch */
			failed += append(b, shared) != 0;
	}
	free(b);
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

/* Reads a whole small file into buf; returns its length. */
static size_t slurp(const char *file, uint8_t *buf, size_t size)
{
	FILE *f = fopen(file, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, size, f);
	assert_true(n < size);
	fclose(f);
	return n;
}

/* Byte for byte what libpcap's own dumper writes for the same records: the
 * file header, and each record's header and bytes. */
static void test_layout_matches_libpcap(void **state)
{
	static uint8_t ours[4096], theirs[4096];
	char ref[160];
	struct vd_packet p[2];
	struct vd_pcap_out *o;
	pcap_t *dead;
	pcap_dumper_t *d;
	size_t n;

	(void)state;
	snprintf(ref, sizeof(ref), "%s/ref.pcap", dir);
	view(&p[0], b4, n4);
	view(&p[1], b6, n6);
	p[0].meta |= VD_META_TIMESTAMP | VD_META_MARK | VD_META_PREFIX;
	p[0].timestamp_ns = 1700000000123456789ull, p[0].mark = 9, p[0].prefix = "pfx";
	p[1].meta |= VD_META_TIMESTAMP;
	p[1].timestamp_ns = 1700000001000001000ull;
	p[1].len = n6 + 100; /* captured short */
	for (int lt = VD_PCAP_NFLOG; lt <= VD_PCAP_RAW; lt++) {
		o = vd_pcap_out_open(path, (enum vd_pcap_linktype)lt, err, sizeof(err));
		assert_non_null(o);
		dead = pcap_open_dead(lt == VD_PCAP_NFLOG ? DLT_NFLOG : DLT_RAW, 65535);
		d = pcap_dump_open(dead, ref);
		assert_non_null(d);
		for (int i = 0; i < 2; i++) {
			struct pcap_pkthdr h;
			size_t at = one.len;
			uint32_t w[4];

			add(&one, o, &p[i], NULL);
			/* libpcap gets the lengths and bytes our record carries */
			memcpy(w, one.buf + at, 16);
			h.ts.tv_sec = (time_t)(p[i].timestamp_ns / 1000000000u);
			h.ts.tv_usec = (suseconds_t)(p[i].timestamp_ns % 1000000000u / 1000u);
			h.caplen = w[2];
			h.len = w[3];
			if (lt == VD_PCAP_RAW) {
				assert_int_equal(h.caplen, p[i].caplen);
				assert_int_equal(h.len, p[i].len);
			}
			assert_int_equal(one.len - at, 16 + h.caplen);
			pcap_dump((u_char *)d, &h, one.buf + at + 16);
		}
		assert_int_equal(append(&one, o), 0);
		vd_pcap_out_close(o);
		pcap_dump_close(d);
		pcap_close(dead);
		n = slurp(path, ours, sizeof(ours));
		assert_int_equal(n, slurp(ref, theirs, sizeof(theirs)));
		assert_memory_equal(ours, theirs, n);
	}
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
		add(&one, o, &p, "x");
	view(&p, b6, n6);
	add(&one, o, &p, "x");
	assert_int_equal(append(&one, o), 0);
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
		T(test_full_disk_is_counted),
		T(test_failed_write_keeps_file_readable),
		T(test_reopen),
		T(test_concurrent_writers),
		T(test_layout_matches_libpcap),
		T(test_tcpdump_reads_nflog_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
