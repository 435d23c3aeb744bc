/* test_rule_match.c - what each match key selects, first match wins, and the
 * actions a matching rule takes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "rules_fixture.h"
#include "verdict_batch.h"

static struct vd_ruleset *rs;

static void load(const char *text)
{
	char err[512];

	vd_ruleset_free(rs);
	rs = vt_rules_load(text, err, sizeof(err));
	if (!rs)
		fail_msg("%s", err);
}

static int teardown(void **state)
{
	(void)state;
	vd_ruleset_free(rs);
	rs = NULL;
	return 0;
}

/* The index of the rule that decides pkt (-1: default), and its verdict. */
static int decide(const struct vd_packet *pkt, struct vd_verdict *v)
{
	int rule;
	bool failed;
	struct vd_verdict got = vd_ruleset_eval(rs, 0, pkt, NULL, &rule, &failed);

	if (v)
		*v = got;
	return rule;
}

static struct vd_packet *udp4(const char *src, uint16_t dport)
{
	return vt_packet(&(struct vt_packet_spec){ .version = 4, .proto = IPPROTO_UDP, .src = src,
						   .sport = 1000, .dport = dport });
}

static struct vd_packet *tcp6(const char *src, uint16_t dport, uint8_t flags)
{
	return vt_packet(&(struct vt_packet_spec){ .version = 6, .proto = IPPROTO_TCP, .src = src,
						   .sport = 40000, .dport = dport, .tcp_flags = flags });
}

static void test_first_match_wins_and_default(void **state)
{
	struct vd_verdict v;

	(void)state;
	load("return { default = \"drop\", rules = {"
	     " { name = \"a\", proto = \"udp\", dport = 53, verdict = \"accept\" },"
	     " { name = \"b\", proto = \"udp\", verdict = \"repeat\" } } }");
	assert_int_equal(decide(udp4("198.18.0.1", 53), &v), 0);
	assert_int_equal(v.kind, VD_VERDICT_ACCEPT);
	assert_int_equal(decide(udp4("198.18.0.1", 54), &v), 1);
	assert_int_equal(v.kind, VD_VERDICT_REPEAT);
	assert_int_equal(decide(tcp6("2001:db8::1", 53, VD_TCP_SYN), &v), -1);
	assert_int_equal(v.kind, VD_VERDICT_DROP);
}

static void test_ports_lists_and_ranges(void **state)
{
	(void)state;
	load("return { rules = {"
	     " { name = \"list\", dport = { 23, 2323 }, verdict = \"drop\" },"
	     " { name = \"range\", dport = \"8000-8999\", sport = 1000, verdict = \"drop\" } } }");
	assert_int_equal(decide(udp4("198.18.0.1", 23), NULL), 0);
	assert_int_equal(decide(udp4("198.18.0.1", 2323), NULL), 0);
	assert_int_equal(decide(udp4("198.18.0.1", 24), NULL), -1);
	assert_int_equal(decide(udp4("198.18.0.1", 8000), NULL), 1);
	assert_int_equal(decide(udp4("198.18.0.1", 8999), NULL), 1);
	assert_int_equal(decide(udp4("198.18.0.1", 9000), NULL), -1);
	assert_int_equal(decide(tcp6("2001:db8::1", 8500, 0), NULL), -1); /* sport 40000 */
}

static void test_addresses_prefixes_and_sets(void **state)
{
	(void)state;
	load("return { sets = { lab = { \"198.18.0.0/15\", \"2001:db8::/32\" } }, rules = {"
	     " { name = \"v4only\", src = \"10.0.0.0/8\", verdict = \"drop\" },"
	     " { name = \"lab\", src = \"@lab\", dport = 22, verdict = \"accept\" },"
	     " { name = \"host6\", src = \"2001:db8:1::5\", verdict = \"drop\" } } }");
	assert_int_equal(decide(udp4("10.1.2.3", 1), NULL), 0);
	assert_int_equal(decide(udp4("11.0.0.1", 1), NULL), -1);
	assert_int_equal(decide(udp4("198.19.255.255", 22), NULL), 1);
	assert_int_equal(decide(udp4("198.20.0.0", 22), NULL), -1);
	assert_int_equal(decide(tcp6("2001:db8:ffff::1", 22, 0), NULL), 1);
	assert_int_equal(decide(tcp6("2001:db9::1", 22, 0), NULL), -1);
	assert_int_equal(decide(tcp6("2001:db8:1::5", 80, 0), NULL), 2);
	assert_int_equal(decide(tcp6("2001:db8:1::6", 80, 0), NULL), -1);
	/* An IPv4-only rule never matches IPv6, whatever the bytes. */
	assert_int_equal(decide(tcp6("::a00:1", 80, 0), NULL), -1);
}

static void test_metadata_matches(void **state)
{
	struct vd_packet *p;

	(void)state;
	load("return { rules = {"
	     " { name = \"in2\", iif = 2, verdict = \"drop\" },"
	     " { name = \"mark\", match_mark = \"0x10/0xf0\", verdict = \"drop\" },"
	     " { name = \"uid\", uid = \"1000-1999\", verdict = \"drop\" },"
	     " { name = \"gid\", gid = 50, verdict = \"drop\" },"
	     " { name = \"new\", ct_state = { \"new\" }, verdict = \"drop\" },"
	     " { name = \"big\", len = \"1000-65535\", verdict = \"drop\" },"
	     " { name = \"untracked\", ct_state = \"invalid\", verdict = \"accept\" } } }");
	p = udp4("198.18.0.1", 1);
	p->meta |= VD_META_INDEV | VD_META_CT;
	p->indev = 2;
	p->ct_state = VD_CT_ESTABLISHED;
	assert_int_equal(decide(p, NULL), 0);
	p->indev = 3;
	p->meta |= VD_META_MARK;
	p->mark = 0xab1f;
	assert_int_equal(decide(p, NULL), 1);
	p->mark = 0xab2f;
	assert_int_equal(decide(p, NULL), -1);
	p->meta |= VD_META_UID;
	p->uid = 1500;
	assert_int_equal(decide(p, NULL), 2);
	p->uid = 0;
	p->meta |= VD_META_GID;
	p->gid = 50;
	assert_int_equal(decide(p, NULL), 3);
	p->gid = 51;
	p->ct_state = VD_CT_NEW;
	assert_int_equal(decide(p, NULL), 4);
	p->ct_state = VD_CT_ESTABLISHED;
	p->len = 1200;
	assert_int_equal(decide(p, NULL), 5);
	p->len = 100;
	p->meta &= ~(uint32_t)VD_META_CT;
	assert_int_equal(decide(p, NULL), 6);
}

static void test_tcp_flags_and_icmp(void **state)
{
	struct vd_packet *p;

	(void)state;
	load("return { rules = {"
	     " { name = \"syn\", proto = \"tcp\", tcp_flags = \"syn,!ack\", verdict = \"drop\" },"
	     " { name = \"echo\", icmp_type = 8, icmp_code = 0, verdict = \"drop\" } } }");
	assert_int_equal(decide(tcp6("2001:db8::1", 80, VD_TCP_SYN), NULL), 0);
	assert_int_equal(decide(tcp6("2001:db8::1", 80, VD_TCP_SYN | VD_TCP_ACK), NULL), -1);
	assert_int_equal(decide(udp4("198.18.0.1", 80), NULL), -1);
	p = vt_packet(&(struct vt_packet_spec){ .version = 4, .proto = IPPROTO_ICMP, .icmp_type = 8 });
	assert_int_equal(decide(p, NULL), 1);
	p = vt_packet(&(struct vt_packet_spec){ .version = 6, .proto = IPPROTO_ICMPV6, .icmp_type = 8,
						.icmp_code = 1 });
	assert_int_equal(decide(p, NULL), -1);
}

static void test_packet_without_headers_meets_only_unconstrained_rules(void **state)
{
	static const uint8_t junk[] = { 0x99, 1, 2, 3 };
	struct vd_packet p;

	(void)state;
	load("return { rules = {"
	     " { name = \"tcp\", proto = \"tcp\", verdict = \"drop\" },"
	     " { name = \"port\", dport = 1, verdict = \"drop\" },"
	     " { name = \"small\", len = \"0-10\", verdict = \"repeat\" } } }");
	vd_packet_view_init(&p, junk, sizeof(junk), sizeof(junk));
	vd_packet_parse(&p);
	assert_int_equal(decide(&p, NULL), 2);
}

static void test_actions_carry_mark_and_queue(void **state)
{
	struct vd_verdict v;

	(void)state;
	load("return { rules = {"
	     " { name = \"tag\", dport = 1, verdict = \"accept\", mark = \"0x10/0xff\" },"
	     " { name = \"q\", dport = 2, verdict = \"queue\", queue = 7, bypass = true } } }");
	decide(udp4("198.18.0.1", 1), &v);
	assert_true(v.flags & VD_VERDICT_F_MARK);
	assert_int_equal(v.mark, 0x10);
	assert_int_equal(v.mark_mask, 0xff);
	decide(udp4("198.18.0.1", 2), &v);
	assert_int_equal(v.kind, VD_VERDICT_QUEUE);
	assert_int_equal(v.queue, 7);
	assert_true(v.flags & VD_VERDICT_F_BYPASS);
}

static void test_lua_hook_by_payload_and_on_error(void **state)
{
	static const uint8_t bad[] = { 0xff, 0 }, good[] = { 0x01, 0 };
	struct vd_packet *p;
	struct vd_verdict v;
	bool failed;
	int rule;

	(void)state;
	load("return { rules = {"
	     " { name = \"byte\", dport = 5002, lua = function(pkt)"
	     "     if pkt:byte(1) == 0xff then return \"drop\" end return \"accept\" end },"
	     " { name = \"broken\", dport = 5003, on_error = \"drop\","
	     "   lua = function(pkt) return pkt.nope.field end } } }");
	p = vt_packet(&(struct vt_packet_spec){ .version = 4, .proto = IPPROTO_UDP, .dport = 5002,
						.payload = bad, .payload_len = sizeof(bad) });
	assert_int_equal(decide(p, &v), 0);
	assert_int_equal(v.kind, VD_VERDICT_DROP);
	p = vt_packet(&(struct vt_packet_spec){ .version = 4, .proto = IPPROTO_UDP, .dport = 5002,
						.payload = good, .payload_len = sizeof(good) });
	decide(p, &v);
	assert_int_equal(v.kind, VD_VERDICT_ACCEPT);
	v = vd_ruleset_eval(rs, 0, udp4("198.18.0.1", 5003), NULL, &rule, &failed);
	assert_int_equal(rule, 1);
	assert_true(failed);
	assert_int_equal(v.kind, VD_VERDICT_DROP);
}

/* A 1,000-rule table: each rule owns one port; the index must still find
 * the right one, and the last. */
static void test_thousand_rules(void **state)
{
	size_t cap = 1000 * 80 + 64, off = 0;
	char *text = malloc(cap);

	(void)state;
	assert_non_null(text);
	off += (size_t)snprintf(text + off, cap - off, "return { rules = {");
	for (int i = 1; i <= 1000; i++)
		off += (size_t)snprintf(text + off, cap - off,
					"{ name = \"p%d\", proto = \"udp\", dport = %d, verdict = \"drop\" },",
					i, 10000 + i);
	snprintf(text + off, cap - off, "} }");
	load(text);
	free(text);
	assert_int_equal(rs->dims[VD_DIM_DPORT].nclasses, 1001); /* one per port, and none */
	assert_int_equal(decide(udp4("198.18.0.1", 10001), NULL), 0);
	assert_int_equal(decide(udp4("198.18.0.1", 10500), NULL), 499);
	assert_int_equal(decide(udp4("198.18.0.1", 11000), NULL), 999);
	assert_int_equal(decide(udp4("198.18.0.1", 11001), NULL), -1);
}

static void test_logs_list_and_log_flags(void **state)
{
	bool failed;
	int rule;
	struct vd_verdict v;

	(void)state;
	load("return { default = 'drop', log_default = true,\n"
	     "  rules = { { name = 'web', proto = 'udp', dport = 80, verdict = 'accept', log = true },\n"
	     "            { name = 'quiet', proto = 'udp', dport = 81, verdict = 'accept' } },\n"
	     "  logs = { { name = 'skip', proto = 'udp', dport = 53, verdict = 'drop' },\n"
	     "           { name = 'tag', proto = 'udp', dport = 54, verdict = 'accept', mark = 3 } } }\n");
	assert_true(rs->file.log_default);
	assert_true(rs->file.rules[0].log);
	assert_false(rs->file.rules[1].log);
	assert_non_null(rs->logs);
	assert_int_equal(rs->logs->file.nrules, 2);
	assert_int_equal(rs->logs->file.default_verdict.kind, VD_VERDICT_ACCEPT);
	v = vd_ruleset_eval(rs->logs, 0, udp4("198.18.0.1", 53), NULL, &rule, &failed);
	assert_int_equal(rule, 0);
	assert_int_equal(v.kind, VD_VERDICT_DROP);
	v = vd_ruleset_eval(rs->logs, 0, udp4("198.18.0.1", 54), NULL, &rule, &failed);
	assert_int_equal(rule, 1);
	assert_true(v.flags & VD_VERDICT_F_MARK);
	assert_int_equal(v.mark, 3);
	v = vd_ruleset_eval(rs->logs, 0, udp4("198.18.0.1", 55), NULL, &rule, &failed);
	assert_int_equal(rule, -1);
	assert_int_equal(v.kind, VD_VERDICT_ACCEPT);
	/* The queue rules are not affected by the logs list. */
	assert_int_equal(decide(udp4("198.18.0.1", 53), &v), -1);
	assert_int_equal(v.kind, VD_VERDICT_DROP);
}

static struct vd_packet *on_queue(uint16_t queue)
{
	struct vd_packet *p = udp4("198.18.0.1", 9);

	p->queue = queue;
	return p;
}

/* match_queue: the queue a packet arrived on, as a number, a range or a
 * list, through the compiled index like ports; in `logs`, the NFLOG group. */
static void test_match_queue(void **state)
{
	struct vd_verdict v;
	bool failed;
	int rule;

	(void)state;
	load("return { default = 'drop',\n"
	     "  rules = { { name = 'requeue', match_queue = 0, verdict = 'queue', queue = 1 },\n"
	     "            { name = 'range', match_queue = '1-3', verdict = 'accept', mark = 0x10 },\n"
	     "            { name = 'list', match_queue = { 5, '7-8' }, proto = 'udp', verdict = 'repeat' } },\n"
	     "  logs = { { name = 'group9', match_queue = 9, verdict = 'drop' } } }\n");
	assert_true(rs->dims[VD_DIM_QUEUE].used);
	assert_int_equal(decide(on_queue(0), &v), 0);
	assert_true(vd_verdict_equal(v, vd_verdict_queue(1, false)));
	assert_int_equal(decide(on_queue(1), NULL), 1);
	assert_int_equal(decide(on_queue(3), NULL), 1);
	assert_int_equal(decide(on_queue(4), NULL), -1);
	assert_int_equal(decide(on_queue(5), NULL), 2);
	assert_int_equal(decide(on_queue(8), NULL), 2);
	assert_int_equal(decide(on_queue(65535), NULL), -1);
	v = vd_ruleset_eval(rs->logs, 0, on_queue(9), NULL, &rule, &failed);
	assert_int_equal(rule, 0);
	assert_int_equal(v.kind, VD_VERDICT_DROP);
	assert_int_equal(decide(on_queue(9), NULL), -1);
	assert_int_equal(vd_ruleset_eval(rs->logs, 0, on_queue(5), NULL, &rule, &failed).kind,
			 VD_VERDICT_ACCEPT);
	assert_int_equal(rule, -1);
}

/* The mark a verdict puts on the wire over a packet marked 0xff00. */
static uint32_t wire_mark(struct vd_verdict v)
{
	struct vd_wire_verdict wire;

	assert_true(vd_wire_verdict_from(v, 0xff00, 0, &wire));
	assert_true(wire.has_mark);
	return wire.mark;
}

/* mark = N replaces the whole mark (iptables MARK --set-mark N); a mask
 * ("V/M" or { value = V, mask = M }) changes only its bits. The same from a
 * rule and from a Lua hook. */
static void test_mark_forms_on_the_wire(void **state)
{
	/* By dport, 1-9: the mark the rule below for that port puts on the wire. */
	static const uint32_t want[] = { 0, 0x10, 0xff10, 0xff10, 0x10, 0x0f00, 0x10, 0xff10, 0xff10, 0x10 };
	struct vd_verdict v;

	(void)state;
	load("return { rules = {\n"
	     "  { name = 'whole', dport = 1, verdict = 'accept', mark = 0x10 },\n"
	     "  { name = 'text', dport = 2, verdict = 'accept', mark = '0x10/0x10' },\n"
	     "  { name = 'table', dport = 3, verdict = 'accept', mark = { value = 0x10, mask = 0x10 } },\n"
	     "  { name = 'table-whole', dport = 4, verdict = 'accept', mark = { value = 0x10 } },\n"
	     "  { name = 'clear', dport = 5, verdict = 'accept', mark = '0/0xf000' },\n"
	     "  { name = 'lua-whole', dport = 6, lua = function() return 'accept', 0x10 end },\n"
	     "  { name = 'lua-masked', dport = 7,\n"
	     "    lua = function() return 'accept', { mark = { value = 0x10, mask = 0x10 } } end },\n"
	     "  { name = 'lua-old-table', dport = 8,\n"
	     "    lua = function() return ACCEPT, { value = 0x10, mask = 0x10 } end },\n"
	     "  { name = 'lua-queue', dport = 9,\n"
	     "    lua = function() return 'queue', { queue = 1, mark = 0x10 } end },\n"
	     "} }\n");
	for (uint16_t port = 1; port < sizeof(want) / sizeof(want[0]); port++) {
		decide(udp4("198.18.0.1", port), &v);
		if (wire_mark(v) != want[port])
			fail_msg("dport %u: mark 0x%x on the wire, want 0x%x", port, wire_mark(v),
				 want[port]);
	}
	assert_int_equal(v.kind, VD_VERDICT_QUEUE); /* the last, lua-queue */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_first_match_wins_and_default, teardown),
		cmocka_unit_test_teardown(test_ports_lists_and_ranges, teardown),
		cmocka_unit_test_teardown(test_addresses_prefixes_and_sets, teardown),
		cmocka_unit_test_teardown(test_metadata_matches, teardown),
		cmocka_unit_test_teardown(test_tcp_flags_and_icmp, teardown),
		cmocka_unit_test_teardown(test_packet_without_headers_meets_only_unconstrained_rules, teardown),
		cmocka_unit_test_teardown(test_actions_carry_mark_and_queue, teardown),
		cmocka_unit_test_teardown(test_lua_hook_by_payload_and_on_error, teardown),
		cmocka_unit_test_teardown(test_thousand_rules, teardown),
		cmocka_unit_test_teardown(test_logs_list_and_log_flags, teardown),
		cmocka_unit_test_teardown(test_match_queue, teardown),
		cmocka_unit_test_teardown(test_mark_forms_on_the_wire, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
