/* test_rule_rewrite.c - a rule's `set = { ... }` applied by the rule table:
 * every key on IPv4 and IPv6, TCP and UDP, with the bytes and checksums of
 * the result checked against the reference; after a hook; skipped on drop,
 * on a hook error and without an edit; and the refusals, which give the
 * rule's on_error verdict, leave the packet unsent and count as the rule's
 * rewrite_errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "rcu.h"

#include <verdict/edit.h>
#include <verdict/log.h>
#include <verdict/queue.h>
#include <verdict/rules.h>

#include "edit_fixture.h"
#include "rules_fixture.h"

#define RULES(...) "return { rules = { " __VA_ARGS__ " } }"

/* A packet from port 1000 to dport with ACK set (TCP) and, for TCP, an MSS
 * option of 1460; checksummed by the reference, parsed, prepared for
 * editing as a queue prepares it. */
static void make(struct vt_edit_fixture *f, int v, uint8_t proto, uint16_t dport)
{
	struct vt_l4 l4 = { .proto = proto, .sport = 1000, .dport = dport, .tcp_flags = VD_TCP_ACK,
			    .tcp_options_len = proto == IPPROTO_TCP ? 4 : 0, .payload_len = 12 };
	size_t ip_len;

	memset(f, 0, sizeof(*f));
	f->len = v == 4 ? vt_ipv4_build(f->buf, VT_PACKET_MAX, NULL, &l4)
			: vt_ipv6_build(f->buf, VT_PACKET_MAX, NULL, &l4);
	ip_len = v == 4 ? 20 : 40;
	if (proto == IPPROTO_TCP)
		memcpy(f->buf + ip_len + 20, "\x02\x04\x05\xb4", 4); /* MSS 1460 */
	if (vt_has_l4_checksum(proto))
		vt_l4_checksum_fill(f->buf, f->len);
	assert_int_equal(vt_parse(&f->pkt, f->buf, f->len, f->len), VD_PARSE_OK);
	vd_packet_edit_prepare(&f->edit, &f->pkt, f->buf, CAPACITY, 0);
}

static struct vd_ruleset *load(const char *text)
{
	char err[512];
	struct vd_ruleset *rs = vt_rules_load(text, err, sizeof(err));

	if (!rs)
		fail_msg("refused: %s\n%s", err, text);
	return rs;
}

static struct vd_verdict eval(const struct vd_ruleset *rs, struct vt_edit_fixture *f, bool *failed)
{
	int rule;

	return vd_ruleset_eval(rs, 0, &f->pkt, &f->edit, &rule, failed);
}

static uint8_t traffic_class(const uint8_t *p)
{
	return (p[0] >> 4) == 4 ? p[1] : (uint8_t)((p[0] & 0x0f) << 4 | p[1] >> 4);
}

static void assert_address(const uint8_t *at, int v, const char *text)
{
	uint8_t want[16];

	assert_int_equal(inet_pton(v == 4 ? AF_INET : AF_INET6, text, want), 1);
	assert_memory_equal(at, want, v == 4 ? 4 : 16);
}

/* Every key at once on a TCP packet: the fixed order runs them all. */
static void all_keys_tcp(int v)
{
	char text[600];
	const char *src = v == 4 ? "198.18.0.9" : "2001:db8::9";
	const char *dst = v == 4 ? "198.19.0.1" : "2001:db8:1::1";
	struct vt_edit_fixture f;
	struct vd_ruleset *rs;
	struct vd_verdict verdict;
	size_t ip_len = v == 4 ? 20 : 40;
	const uint8_t *tcp;
	bool failed;

	snprintf(text, sizeof(text), RULES("{ name = \"all\", proto = \"tcp\", verdict = \"accept\","
		 " set = { ttl = 7, dscp = \"EF\", ecn = \"ect0\", src = \"%s\", dst = \"%s\","
		 " sport = 4000, dport = 8080, tcp_flags = \"syn,!ack\", mss = 1200%s } }"),
		 src, dst, v == 4 ? ", df = true" : "");
	rs = load(text);
	make(&f, v, IPPROTO_TCP, 2000);
	verdict = eval(rs, &f, &failed);
	assert_int_equal(verdict.kind, VD_VERDICT_ACCEPT);
	assert_false(failed);
	assert_true(vd_packet_edit_pending(&f.edit));
	tcp = f.buf + ip_len;
	assert_int_equal(f.buf[v == 4 ? 8 : 7], 7);
	assert_int_equal(traffic_class(f.buf), 46 << 2 | 2);
	assert_address(f.buf + (v == 4 ? 12 : 8), v, src);
	assert_address(f.buf + (v == 4 ? 16 : 24), v, dst);
	assert_int_equal(vt_be16(tcp), 4000);
	assert_int_equal(vt_be16(tcp + 2), 8080);
	assert_int_equal(tcp[13], VD_TCP_SYN);
	assert_int_equal(vt_be16(tcp + 22), 1200);
	if (v == 4)
		assert_true(f.buf[6] & 0x40);
	assert_int_equal(f.edit.fields, VD_EDIT_TTL | VD_EDIT_DSCP | VD_EDIT_ECN | VD_EDIT_SRC |
			 VD_EDIT_DST | VD_EDIT_SPORT | VD_EDIT_DPORT | VD_EDIT_TCP_FLAGS |
			 VD_EDIT_MSS | (v == 4 ? VD_EDIT_DF : 0));
	vt_edit_assert_valid(&f, false);
	vd_ruleset_free(rs);
}

static void test_every_key_ipv4_tcp(void **state)
{
	(void)state;
	all_keys_tcp(4);
}

static void test_every_key_ipv6_tcp(void **state)
{
	(void)state;
	all_keys_tcp(6);
}

/* The keys a UDP packet has, one rule per key so each is seen alone. */
static void each_key_udp(int v)
{
	static const char *const keys[] = { "ttl = 1", "dscp = \"af41\"", "ecn = \"ce\"", "src",
					    "dst", "sport = 53", "dport = 0", "df = true" };
	char text[300];

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const char *addr = v == 4 ? "\"198.18.7.7\"" : "\"2001:db8::7:7\"";
		struct vt_edit_fixture f;
		struct vd_ruleset *rs;
		bool failed;

		if (v == 6 && strncmp(keys[k], "df", 2) == 0)
			continue;
		snprintf(text, sizeof(text), RULES("{ proto = \"udp\", verdict = \"accept\","
			 " set = { %s%s%s } }"), keys[k], strlen(keys[k]) == 3 ? " = " : "",
			 strlen(keys[k]) == 3 ? addr : "");
		rs = load(text);
		make(&f, v, IPPROTO_UDP, 2000);
		assert_int_equal(eval(rs, &f, &failed).kind, VD_VERDICT_ACCEPT);
		assert_false(failed);
		assert_true(vd_packet_edit_pending(&f.edit));
		assert_int_equal(f.edit.fields, 1u << (k == 7 ? 9 : k));
		vt_edit_assert_valid(&f, false);
		vd_ruleset_free(rs);
	}
}

static void test_each_key_ipv4_udp(void **state)
{
	(void)state;
	each_key_udp(4);
}

static void test_each_key_ipv6_udp(void **state)
{
	(void)state;
	each_key_udp(6);
}

/* After a hook: applied when it accepts, discarded when it drops or fails. */
static void test_set_after_hooks(void **state)
{
	struct vd_ruleset *rs = load(RULES(
		"{ name = \"ok\", dport = 2000, lua = function(p) return \"accept\" end,"
		"  set = { ttl = 9 } },"
		"{ name = \"drops\", dport = 2001, lua = function(p) return \"drop\" end,"
		"  set = { ttl = 9 } },"
		"{ name = \"errs\", dport = 2002, lua = function(p) error(\"no\") end,"
		"  on_error = \"accept\", set = { ttl = 9 } }"));
	struct vt_edit_fixture f;
	bool failed;

	(void)state;
	make(&f, 4, IPPROTO_UDP, 2000);
	assert_int_equal(eval(rs, &f, &failed).kind, VD_VERDICT_ACCEPT);
	assert_false(failed);
	assert_true(vd_packet_edit_pending(&f.edit));
	assert_int_equal(f.buf[8], 9);
	vt_edit_assert_valid(&f, false);

	make(&f, 4, IPPROTO_UDP, 2001);
	assert_int_equal(eval(rs, &f, &failed).kind, VD_VERDICT_DROP);
	assert_true(f.edit.discarded);
	assert_false(vd_packet_edit_pending(&f.edit));
	assert_int_equal(f.buf[8], 64);

	make(&f, 4, IPPROTO_UDP, 2002);
	assert_int_equal(eval(rs, &f, &failed).kind, VD_VERDICT_ACCEPT);
	assert_true(failed);
	assert_int_equal(f.edit.reason, VD_EDIT_OK); /* a hook error, not a refusal */
	assert_true(f.edit.discarded);
	assert_int_equal(f.buf[8], 64);
	vd_ruleset_free(rs);
}

/* Verdict drop: nothing to send, the edit discarded; repeat and queue
 * carry the rewrite like accept; no edit (log groups, --check): skipped. */
static void test_verdicts_and_no_edit(void **state)
{
	struct vd_ruleset *rs = load(RULES(
		"{ dport = 2000, verdict = \"drop\", set = { ttl = 9 } },"
		"{ dport = 2001, verdict = \"repeat\", set = { ttl = 10 } },"
		"{ dport = 2002, verdict = \"queue\", queue = 3, mark = 5, set = { ttl = 11 } }"));
	struct vt_edit_fixture f;
	struct vd_verdict v;
	bool failed;
	int rule;

	(void)state;
	make(&f, 6, IPPROTO_UDP, 2000);
	assert_int_equal(eval(rs, &f, &failed).kind, VD_VERDICT_DROP);
	assert_true(f.edit.discarded);
	assert_int_equal(f.buf[7], 64);

	make(&f, 6, IPPROTO_UDP, 2001);
	assert_int_equal(eval(rs, &f, &failed).kind, VD_VERDICT_REPEAT);
	assert_true(vd_packet_edit_pending(&f.edit));
	assert_int_equal(f.buf[7], 10);

	make(&f, 6, IPPROTO_UDP, 2002);
	v = eval(rs, &f, &failed);
	assert_int_equal(v.kind, VD_VERDICT_QUEUE);
	assert_int_equal(v.queue, 3);
	assert_int_equal(v.mark, 5);
	assert_true(vd_packet_edit_pending(&f.edit));
	assert_int_equal(f.buf[7], 11);
	vt_edit_assert_valid(&f, false);

	make(&f, 6, IPPROTO_UDP, 2001);
	v = vd_ruleset_eval(rs, 0, &f.pkt, NULL, &rule, &failed);
	assert_int_equal(v.kind, VD_VERDICT_REPEAT);
	assert_false(failed);
	assert_int_equal(f.buf[7], 64);
	vd_ruleset_free(rs);
}

/* Through vd_rules_eval_edit: refusals give on_error (by default the rule's
 * own verdict, the packet sent unchanged) and count as rewrite_errors. */
static void test_refusals_counted(void **state)
{
	struct vd_rules_config cfg = { .nworkers = 1 };
	struct vd_rule_stats st[8];
	struct vd_rules_match m;
	struct vt_edit_fixture f;
	struct vd_verdict v;
	char err[VD_ERRBUF_SIZE];
	struct vd_rules *r;

	(void)state;
	rcu_register_thread();
	cfg.path = vt_rules_write(RULES(
		/* ttl applied, then mss refused on UDP: nothing is sent */
		"{ name = \"mss_udp\", dport = 2000, verdict = \"queue\", queue = 2, mark = 7,"
		"  set = { ttl = 3, mss = 1000 } },"
		"{ name = \"family\", dport = 2001, verdict = \"accept\", on_error = \"drop\","
		"  set = { src = \"2001:db8::1\" } },"
		"{ name = \"sctp\", dport = 2002, verdict = \"accept\", set = { dport = 9 } },"
		"{ name = \"fine\", verdict = \"accept\", set = { ttl = 5 } }"));
	r = vd_rules_open(&cfg, err);
	if (!r)
		fail_msg("%s", err);

	make(&f, 4, IPPROTO_UDP, 2000);
	memset(&m, 0, sizeof(m));
	v = vd_rules_eval_edit(r, 0, &f.edit, &m);
	assert_int_equal(v.kind, VD_VERDICT_QUEUE);
	assert_int_equal(v.queue, 2);
	assert_int_equal(v.mark, 7);
	assert_true(m.rewrite_failed);
	assert_false(m.hook_failed);
	assert_int_equal(f.edit.reason, VD_EDIT_NO_FIELD);
	assert_false(vd_packet_edit_pending(&f.edit));

	make(&f, 4, IPPROTO_UDP, 2001);
	v = vd_rules_eval_edit(r, 0, &f.edit, &m);
	assert_int_equal(v.kind, VD_VERDICT_DROP);
	assert_true(m.rewrite_failed);
	assert_int_equal(f.edit.reason, VD_EDIT_FAMILY);

	make(&f, 6, IPPROTO_SCTP, 2002);
	v = vd_rules_eval_edit(r, 0, &f.edit, &m);
	assert_int_equal(v.kind, VD_VERDICT_ACCEPT);
	assert_true(m.rewrite_failed);
	assert_int_equal(f.edit.reason, VD_EDIT_SCTP_CRC);
	assert_false(vd_packet_edit_pending(&f.edit));

	make(&f, 6, IPPROTO_TCP, 1);
	v = vd_rules_eval_edit(r, 0, &f.edit, &m);
	assert_int_equal(v.kind, VD_VERDICT_ACCEPT);
	assert_false(m.rewrite_failed);
	assert_true(vd_packet_edit_pending(&f.edit));

	assert_int_equal(vd_rules_stats(r, st, 8), 5);
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(st[i].hits, 1);
		assert_int_equal(st[i].rewrite_errors, 1);
		assert_int_equal(st[i].errors, 0);
	}
	assert_int_equal(st[4].rewrite_errors, 0);
	vd_rules_close(r);
	rcu_unregister_thread();
}

static int refusal_lines;
static char refusal_line[256];

static void count_refusals(enum vd_log_level level, const char *line, void *user)
{
	(void)level;
	(void)user;
	if (strstr(line, "rewrite refused")) {
		refusal_lines++;
		snprintf(refusal_line, sizeof(refusal_line), "%s", line);
	}
}

/* A refusal on every packet logs one line a second, naming the rule and the
 * reason, not one per packet. */
static void test_refusals_logged_once(void **state)
{
	struct vd_rules_config cfg = { .nworkers = 1 };
	struct vt_edit_fixture f;
	char err[VD_ERRBUF_SIZE];
	struct vd_rules *r;

	(void)state;
	rcu_register_thread();
	cfg.path = vt_rules_write(RULES("{ name = \"clamp\", verdict = \"accept\","
					"  set = { mss = 1000 } }"));
	r = vd_rules_open(&cfg, err);
	if (!r)
		fail_msg("%s", err);
	refusal_lines = 0;
	vd_log_set_handler(count_refusals, NULL);
	for (int i = 0; i < 1000; i++) {
		make(&f, 4, IPPROTO_UDP, 2000);
		vd_rules_eval_edit(r, 0, &f.edit, NULL);
	}
	vd_log_set_handler(NULL, NULL);
	/* 1000 evaluations take well under a second; at most a second boundary
	 * falls inside them. */
	assert_in_range(refusal_lines, 1, 2);
	assert_non_null(strstr(refusal_line, "rule \"clamp\": rewrite refused: packet has no such field"));
	vd_rules_close(r);
	rcu_unregister_thread();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_ipv4_tcp),
		cmocka_unit_test(test_every_key_ipv6_tcp),
		cmocka_unit_test(test_each_key_ipv4_udp),
		cmocka_unit_test(test_each_key_ipv6_udp),
		cmocka_unit_test(test_set_after_hooks),
		cmocka_unit_test(test_verdicts_and_no_edit),
		cmocka_unit_test(test_refusals_counted),
		cmocka_unit_test(test_refusals_logged_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
