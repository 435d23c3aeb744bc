/* capture_fixture.c - shared by test_pcap_out.c and test_capture.c: a
 * temporary directory per test, two packets, reading back, file size limits
 * (capture_fixture.h). */
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
#include "capture_fixture.h"
#include "helpers.h"
#include "pcap_out.h"

char dir[64], path[128], err[512];
uint8_t b4[VT_PACKET_MAX], b6[VT_PACKET_MAX];
size_t n4, n6;

int setup(void **state)
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

int teardown(void **state)
{
	char cmd[160];

	(void)state;
	unlimit_file_size();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

void view(struct vd_packet *p, const uint8_t *b, size_t n)
{
	assert_int_equal(vt_parse(p, b, n, n), VD_PARSE_OK);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct vd_capture *reader(const char *file)
{
	struct vd_capture *c = vd_capture_open(file, err, sizeof(err));

	assert_non_null(c);
	return c;
}

int next(struct vd_capture *c, struct vd_packet *q)
{
	return vd_capture_next(c, q, err, sizeof(err));
}

/* q, read back, against p, written with prefix: bytes, ports, metadata. */
void same(const struct vd_packet *q, const struct vd_packet *p, bool nflog,
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

/* Reads file and checks it holds exactly the IP versions in want. */
void expect_versions(const char *file, const char *want)
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

void limit_file_size(off_t bytes)
{
	struct rlimit small;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved_limit), 0);
	small = saved_limit;
	small.rlim_cur = (rlim_t)bytes;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	limited = true;
}

void unlimit_file_size(void)
{
	if (limited)
		setrlimit(RLIMIT_FSIZE, &saved_limit);
	signal(SIGXFSZ, SIG_DFL);
	limited = false;
}
