/* test_rule_kernel.c - reject and bypass in a rules file and from Lua
 * hooks: the verdicts they give, the --check summary, and every refusal
 * naming file, rule and key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <verdict/kernel_mark.h>

#include "rules_fixture.h"

static struct vd_ruleset *rs;

static int teardown(void **state)
{
	(void)state;
	vd_ruleset_free(rs);
	rs = NULL;
	return 0;
}

static void load(const char *text)
{
	char err[512];

	vd_ruleset_free(rs);
	rs = vt_rules_load(text, err, sizeof(err));
	if (!rs)
		fail_msg("%s", err);
}

/* The verdict for a UDP packet to dport; *failed: its hook failed. */
static struct vd_verdict decide(uint16_t dport, bool *failed)
{
	struct vd_packet *pkt = vt_packet(&(struct vt_packet_spec){
		.version = 4, .proto = IPPROTO_UDP, .src = "198.18.0.1", .dst = "198.18.0.2",
		.sport = 1000, .dport = dport });
	bool hook_failed = false;
	int rule;
	struct vd_verdict v = vd_ruleset_eval(rs, 0, pkt, NULL, &rule, &hook_failed);

	if (failed)
		*failed = hook_failed;
	return v;
}

#define RULE(body) "return { rules = { { name = \"r\", " body " } } }"

static void test_rules_give_reject_and_connection_verdicts(void **state)
{
	struct vd_verdict v;

	(void)state;
	load("return { rules = {\n"
	     " { dport = 1, verdict = 'reject' },\n"
	     " { dport = 2, verdict = 'reject', reject_with = 'tcp-reset' },\n"
	     " { dport = 3, verdict = 'reject', reject_with = 'icmp6-adm-prohibited' },\n"
	     " { dport = 4, verdict = 'reject', reject_with = 'icmp-host-unreachable', bypass = true },\n"
	     " { dport = 5, verdict = 'accept', bypass = true },\n"
	     " { dport = 6, verdict = 'drop', bypass = true, mark = '0x10/0xff' },\n"
	     " { dport = 7, verdict = 'queue', queue = 3, bypass = true },\n"
	     " { dport = 8, verdict = 'accept', bypass = false },\n"
	     "} }");
	v = decide(1, NULL);
	assert_true(vd_verdict_equal(v, vd_verdict_reject(VD_REJECT_DEFAULT)));
	v = decide(2, NULL);
	assert_true(vd_verdict_equal(v, vd_verdict_reject(VD_REJECT_TCP_RESET)));
	v = decide(3, NULL);
	assert_true(vd_verdict_equal(v, vd_verdict_reject(VD_REJECT_ADMIN_PROHIBITED)));
	v = decide(4, NULL);
	assert_true(vd_verdict_equal(
		v, vd_verdict_connection(vd_verdict_reject(VD_REJECT_HOST_UNREACHABLE))));
	assert_true(vd_verdict_equal(decide(5, NULL), vd_verdict_connection(vd_verdict_accept())));
	assert_true(vd_verdict_equal(decide(6, NULL), vd_verdict_with_mark(vd_verdict_connection(
							       vd_verdict_drop()), 0x10, 0xff)));
	/* queue's bypass keeps its meaning: accept when nobody listens */
	assert_true(vd_verdict_equal(decide(7, NULL), vd_verdict_queue(3, true)));
	assert_true(vd_verdict_equal(decide(8, NULL), vd_verdict_accept()));
	assert_true(rs->file.kernel_verdicts);
	load(RULE("verdict = 'accept', mark = 0x10"));
	assert_false(rs->file.kernel_verdicts);
}

static void test_summary_shows_reject_bypass_and_warns(void **state)
{
	char *text = vt_rules_summary(
		"return { rules = {\n"
		" { name = 'rst', proto = 'tcp', verdict = 'reject', reject_with = 'tcp-reset' },\n"
		" { name = 'once', verdict = 'accept', bypass = true } } }");

	(void)state;
	assert_non_null(strstr(text, "-> reject with tcp-reset\n"));
	assert_non_null(strstr(text, "-> accept bypass (the rest of the connection in the kernel)"));
	assert_non_null(strstr(text, "warning: reject and bypass need verdictd's kernel rules "
				     "(--firewall, or the --print-firewall output loaded and "
				     "--bypass-mark given)"));
	free(text);
	text = vt_rules_summary(RULE("verdict = 'queue', queue = 1, bypass = true"));
	assert_null(strstr(text, "warning: reject"));
	free(text);
}

static void test_refusals_name_the_key(void **state)
{
	(void)state;
	vt_rules_refused_exactly(RULE("verdict = 'accept', reject_with = 'tcp-reset'"),
				 "rule 1 \"r\": key \"reject_with\" needs verdict \"reject\"");
	vt_rules_refused_exactly(RULE("verdict = 'reject', reject_with = 'tcp-rst'"),
				 "rule 1 \"r\": key \"reject_with\": unknown answer \"tcp-rst\": "
				 "expected \"tcp-reset\", \"icmp-port-unreachable\", "
				 "\"icmp-admin-prohibited\", \"icmp-host-unreachable\" (or the icmp6- names)");
	vt_rules_refused_exactly(RULE("verdict = 'reject', reject_with = 5"),
				 "rule 1 \"r\": key \"reject_with\": expected a string: \"tcp-reset\", "
				 "\"icmp-port-unreachable\", \"icmp-admin-prohibited\", "
				 "\"icmp-host-unreachable\" (or the icmp6- names)");
	vt_rules_refused_exactly(RULE("verdict = 'repeat', bypass = true"),
				 "rule 1 \"r\": key \"bypass\": verdict \"repeat\" cannot decide a "
				 "connection (accept, drop or reject can)");
	vt_rules_refused_exactly(RULE("lua = function() return 'accept' end, bypass = true"),
				 "rule 1 \"r\": key \"bypass\": needs a verdict (accept, drop or "
				 "reject); a hook returns its own: return \"accept\", { bypass = true }");
	vt_rules_refused_exactly(RULE("verdict = 'accept', bypass = true, set = { ttl = 9 }"),
				 "rule 1 \"r\": key \"bypass\": cannot go with \"set\": a connection "
				 "decided in the kernel is never rewritten");
	vt_rules_refused_exactly(RULE("verdict = 'accept', bypass = true, delay = '10ms'"),
				 "rule 1 \"r\": key \"bypass\": cannot go with \"delay\": a connection "
				 "decided in the kernel is never delayed or shaped");
	vt_rules_refused_exactly(RULE("verdict = 'drop', bypass = true, loss = '1%'"),
				 "rule 1 \"r\": key \"bypass\": cannot go with \"loss\": a connection "
				 "decided in the kernel is never delayed or shaped");
	vt_rules_refused_exactly(RULE("verdict = 'reject', set = { ttl = 9 }"),
				 "rule 1 \"r\": key \"verdict\": cannot go with \"set\": a rejected "
				 "packet is never rewritten");
	vt_rules_refused_exactly(RULE("verdict = 'reject', rate = '1mbit', burst = '10kb'"),
				 "rule 1 \"r\": key \"verdict\": cannot go with \"rate\": a rejected "
				 "packet is never delayed or shaped");
	vt_rules_refused_exactly(RULE("verdict = 'accept', mark = '0x01000000/0x0f000000'"),
				 "rule 1 \"r\": key \"mark\": 0x01000000/0x0f000000 sets bits of "
				 "0x0f000000, the mark field verdictd's kernel rules own "
				 "(--bypass-mark): keep the rule's mark outside it");
	vt_rules_refused_exactly("return { rules = {}, logs = { { name = 'l', verdict = 'accept', "
				 "bypass = true } } }",
				 "logs entry 1 \"l\": key \"bypass\": logged packets are copies: there is "
				 "no connection to decide");
	vt_rules_refused_exactly("return { rules = {}, logs = { { name = 'l', verdict = 'reject' } } }",
				 "logs entry 1 \"l\": key \"verdict\": expected \"accept\" or \"drop\"");
	vt_rules_refused_exactly("return { default = 'reject', rules = {} }",
				 "key \"default\": expected \"accept\" or \"drop\"");
	vt_rules_refused_exactly(RULE("lua = function() end, on_error = 'reject'"),
				 "rule 1 \"r\": key \"on_error\": expected \"accept\" or \"drop\"");
}

/* A whole mark sets no bit of the field: allowed. With another field, the
 * default's bits are the user's. */
static void test_mark_field_follows_the_mask(void **state)
{
	char err[512];
	struct vd_ruleset_options opt = { .nworkers = 1, .kernel_mark_mask = 0xf0 };
	const char *path;

	(void)state;
	load(RULE("verdict = 'accept', mark = 5"));
	vd_ruleset_free(rs);
	path = vt_rules_write(RULE("verdict = 'accept', mark = '0x01000000/0x0f000000'"));
	rs = vd_ruleset_load(path, &opt, err, sizeof(err));
	if (!rs)
		fail_msg("%s", err);
	vd_ruleset_free(rs);
	path = vt_rules_write(RULE("verdict = 'accept', mark = 0x10"));
	rs = vd_ruleset_load(path, &opt, err, sizeof(err));
	assert_null(rs);
	assert_non_null(strstr(err, "key \"mark\": 0x00000010/0xffffffff sets bits of 0x000000f0"));
	opt.kernel_mark_mask = 0x30;
	rs = vd_ruleset_load(path, &opt, err, sizeof(err));
	assert_null(rs);
	assert_non_null(strstr(err, "kernel mark mask 0x30 is not 4 contiguous bits"));
}

/* What Lua hooks return: reject with its answer, bypass on accept, drop
 * and reject; bad options fail the hook (on_error, here the default drop,
 * decides). */
static void test_lua_returns(void **state)
{
	bool failed;

	(void)state;
	load("return { default = 'drop', rules = {\n"
	     " { dport = 1, lua = function() return 'reject' end },\n"
	     " { dport = 2, lua = function() return 'reject', { reject_with = 'tcp-reset' } end },\n"
	     " { dport = 3, lua = function() return REJECT, { reject_with = 'icmp6-addr-unreachable', "
	     "bypass = true } end },\n"
	     " { dport = 4, lua = function() return 'accept', { bypass = true, mark = 0x20 } end },\n"
	     " { dport = 5, lua = function() return 'drop', { bypass = true } end },\n"
	     " { dport = 6, lua = function() return 'queue', { queue = 2, bypass = true } end },\n"
	     " { dport = 7, lua = function() return 'accept', { reject_with = 'tcp-reset' } end },\n"
	     " { dport = 8, lua = function() return 'reject', { reject_with = 'rst' } end },\n"
	     " { dport = 9, lua = function() return 'repeat', { bypass = true } end },\n"
	     " { dport = 10, lua = function() return 'accept', { bypass = true, delay = 0.1 } end },\n"
	     " { dport = 11, lua = function() return 'reject', { delay = 0.1 } end },\n"
	     "} }");
	assert_true(vd_verdict_equal(decide(1, &failed), vd_verdict_reject(VD_REJECT_DEFAULT)));
	assert_true(vd_verdict_equal(decide(2, &failed), vd_verdict_reject(VD_REJECT_TCP_RESET)));
	assert_true(vd_verdict_equal(decide(3, &failed), vd_verdict_connection(
					     vd_verdict_reject(VD_REJECT_HOST_UNREACHABLE))));
	assert_true(vd_verdict_equal(decide(4, &failed), vd_verdict_with_mark(vd_verdict_connection(
					     vd_verdict_accept()), 0x20, UINT32_MAX)));
	assert_true(vd_verdict_equal(decide(5, &failed), vd_verdict_connection(vd_verdict_drop())));
	assert_true(vd_verdict_equal(decide(6, &failed), vd_verdict_queue(2, true)));
	assert_false(failed);
	for (uint16_t port = 7; port <= 11; port++) {
		struct vd_verdict v = decide(port, &failed);

		if (!failed || v.kind != VD_VERDICT_DROP)
			fail_msg("dport %u: hook did not fail (kind %u)", port, v.kind);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_rules_give_reject_and_connection_verdicts, teardown),
		cmocka_unit_test_teardown(test_summary_shows_reject_bypass_and_warns, teardown),
		cmocka_unit_test_teardown(test_refusals_name_the_key, teardown),
		cmocka_unit_test_teardown(test_mark_field_follows_the_mask, teardown),
		cmocka_unit_test_teardown(test_lua_returns, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
