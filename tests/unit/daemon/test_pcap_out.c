/* test_pcap_out.c - the pcap writer (engine/pcap_out.c), read back with the
 * capture reader: round trips in both link types, cuts, a full disk, writes
 * cut short, logrotate, concurrent writers, tcpdump. */
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
		T(test_full_disk_is_counted),
		T(test_failed_write_keeps_file_readable),
		T(test_reopen),
		T(test_concurrent_writers),
		T(test_tcpdump_reads_nflog_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
