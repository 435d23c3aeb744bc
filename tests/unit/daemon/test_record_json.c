/* test_record_json.c - one packet as one JSON line (engine/record_json.c):
 * every key, escaping of outside strings, and a buffer too small. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "helpers.h"
#include "record_json.h"

static char line[2048];

static struct vd_packet *tcp4(void)
{
	static uint8_t buf[VT_PACKET_MAX];
	static struct vd_packet pkt;
	struct vt_l4 l4 = { .proto = IPPROTO_TCP, .sport = 40000, .dport = 443,
			    .tcp_flags = VD_TCP_SYN | VD_TCP_ACK };
	size_t n = vt_ipv4_build(buf, sizeof(buf),
				 &(struct vt_ipv4){ .src = "198.18.0.1", .dst = "198.19.0.2" }, &l4);

	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
	pkt.meta |= VD_META_TIMESTAMP;
	pkt.timestamp_ns = 1795000000123456789ull; /* 2026-11-18T...Z */
	return &pkt;
}

static void expect(const char *want)
{
	if (!strstr(line, want))
		fail_msg("\"%s\" lacks \"%s\"", line, want);
}

static void test_queue_packet_with_verdict(void **state)
{
	struct vd_packet *p = tcp4();
	struct vd_verdict v = vd_verdict_with_mark(vd_verdict_accept(), 0x10, 0xf0);
	struct vd_record_info info = { .rule = "web", .verdict = &v, .indev = "veth0", .tag = -1 };
	size_t n;

	(void)state;
	p->queue = 3;
	p->hook = 1;
	p->meta |= VD_META_MARK | VD_META_UID | VD_META_OUTDEV | VD_META_CT;
	p->mark = 0x101;
	p->uid = 1000;
	p->outdev = 7;
	p->ct_state = VD_CT_NEW;
	n = vd_record_json(line, sizeof(line), p, &info);
	assert_int_equal(n, strlen(line));
	assert_int_equal(line[n - 1], '\n');
	assert_ptr_equal(strchr(line, '\n'), line + n - 1); /* one line */
	expect("{\"ts\":\"2026-11-18T");
	expect(".123456Z\"");
	expect("\"source\":\"queue\",\"queue\":3");
	expect("\"hook\":\"input\"");
	expect("\"verdict\":\"accept\"");
	expect("\"rule\":\"web\"");
	expect("\"mark\":257");
	expect("\"new_mark\":273"); /* (0x101 & ~0xf0) | 0x10 */
	expect("\"indev\":\"veth0\"");
	expect("\"outdev\":7");
	expect("\"uid\":1000");
	expect("\"family\":\"ipv4\",\"src\":\"198.18.0.1\",\"dst\":\"198.19.0.2\",\"proto\":\"tcp\"");
	expect("\"sport\":40000,\"dport\":443,\"tcp_flags\":\"syn,ack\"");
	expect("\"ct_state\":\"new\"");
	assert_null(strstr(line, "\"tag\""));
	assert_null(strstr(line, "\"seq\""));
}

static void test_log_packet_escapes_prefix(void **state)
{
	struct vd_packet *p = tcp4();
	struct vd_record_info info = { .tag = 42 };

	(void)state;
	p->source = VD_SOURCE_NFLOG;
	p->queue = 5;
	p->meta |= VD_META_PREFIX | VD_META_SEQ | VD_META_SEQ_GLOBAL;
	p->prefix = "a\"b\\c\n\x01";
	p->seq = 9;
	p->seq_global = 11;
	assert_true(vd_record_json(line, sizeof(line), p, &info) > 0);
	expect("\"source\":\"nflog\",\"group\":5");
	expect("\"prefix\":\"a\\\"b\\\\c\\u000a\\u0001\"");
	expect("\"seq\":9,\"seq_global\":11");
	expect("\"tag\":42");
	assert_null(strstr(line, "\"verdict\""));
}

static void test_buffer_too_small(void **state)
{
	(void)state;
	assert_int_equal(vd_record_json(line, 40, tcp4(), NULL), 0);
}

static void test_no_ip_header(void **state)
{
	static const uint8_t junk[] = { 0x00, 0x01, 0x02 };
	struct vd_packet p;

	(void)state;
	vt_parse(&p, junk, sizeof(junk), sizeof(junk));
	assert_true(vd_record_json(line, sizeof(line), &p, NULL) > 0);
	expect("\"len\":3");
	expect("\"parse_error\":");
	assert_null(strstr(line, "\"src\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_packet_with_verdict),
		cmocka_unit_test(test_log_packet_escapes_prefix),
		cmocka_unit_test(test_buffer_too_small),
		cmocka_unit_test(test_no_ip_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
