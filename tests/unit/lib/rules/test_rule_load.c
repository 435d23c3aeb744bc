/* test_rule_load.c - every way a rules file can be wrong gives one line that
 * names the file, the rule and the key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules_fixture.h"

/* Loading text must fail with a message containing want. */
static void refused(const char *text, const char *want)
{
	char err[512];
	struct vd_ruleset *rs = vt_rules_load(text, err, sizeof(err));

	if (rs) {
		vd_ruleset_free(rs);
		fail_msg("loaded, but should fail with \"%s\":\n%s", want, text);
	}
	if (!strstr(err, want))
		fail_msg("error \"%s\" does not contain \"%s\"", err, want);
	assert_null(strchr(err, '\n'));
	assert_non_null(strstr(err, "rules.lua"));
}

#define RULE(body) "return { rules = { { name = \"r\", " body " } } }"

static void test_file_level_errors(void **state)
{
	(void)state;
	refused("return {", "rules.lua:1:");
	refused("return 42", "must return a table");
	refused("return { rulez = {} }", "key \"rulez\": unknown top-level key");
	refused("return { rules = 5 }", "key \"rules\": expected a list of rules");
	refused("return { default = \"maybe\", rules = {} }", "key \"default\": expected \"accept\" or \"drop\"");
	refused("return { rules = { 7 } }", "rule 1 \"\": expected a table");
	refused("return { rules = { { name = 1, verdict = \"drop\" } } }", "key \"name\": expected a string");
	refused("return { rules = { { name = \"a\", verdict = \"drop\" }, { name = \"a\", verdict = \"drop\" } } }",
		"rule 2 \"a\": name already used by rule 1");
	refused("return { sets = 3, rules = {} }", "key \"sets\"");
	refused("while true do end", "instruction budget");
	refused("return { first_packets = 0, rules = {} }",
		"key \"first_packets\": expected a whole number from 1 to 1000000");
	refused("return { first_packets = 1000001, rules = {} }", "key \"first_packets\"");
	refused("return { first_packets = 2.5, rules = {} }", "key \"first_packets\"");
	refused("return { first_packets = \"3\", rules = {} }", "key \"first_packets\"");
}

/* first_packets is kept for the daemon's kernel rules, and --check says so. */
static void test_first_packets(void **state)
{
	char err[512];
	struct vd_ruleset *rs = vt_rules_load("return { first_packets = 4, rules = {} }", err,
					      sizeof(err));

	(void)state;
	assert_non_null(rs);
	assert_int_equal(rs->file.first_packets, 4);
	vd_ruleset_free(rs);
	rs = vt_rules_load("return { rules = {} }", err, sizeof(err));
	assert_non_null(rs);
	assert_int_equal(rs->file.first_packets, 0);
	vd_ruleset_free(rs);
	vt_rules_summary_has("return { first_packets = 1000000, rules = {} }",
			     "first_packets 1000000: only the first 1000000 packets");
}

static void test_match_key_errors(void **state)
{
	(void)state;
	refused(RULE("proto = \"tcp\", dprt = 22, verdict = \"accept\""),
		"rule 1 \"r\": key \"dprt\": unknown key (did you mean \"dport\"?)");
	refused(RULE("proto = \"tpc\", verdict = \"accept\""), "key \"proto\": unknown protocol \"tpc\"");
	refused(RULE("dport = 70000, verdict = \"accept\""), "key \"dport\": 70000 is out of range");
	refused(RULE("dport = \"9-1\", verdict = \"accept\""), "key \"dport\": \"9-1\" is not a range");
	refused(RULE("dport = {}, verdict = \"accept\""), "key \"dport\": an empty list");
	refused(RULE("dport = { {1} }, verdict = \"accept\""), "lists do not nest");
	refused(RULE("src = \"10.0.0.0/33\", verdict = \"accept\""), "key \"src\": \"10.0.0.0/33\" is not");
	refused(RULE("dst = \"fe80::zz\", verdict = \"accept\""), "key \"dst\"");
	refused(RULE("src = \"@nope\", verdict = \"accept\""), "set \"@nope\" is not declared");
	refused(RULE("iif = \"no-such-if0\", verdict = \"accept\""), "no interface named \"no-such-if0\"");
	refused(RULE("tcp_flags = \"syn,!akc\", verdict = \"accept\""), "unknown TCP flag \"akc\"");
	refused(RULE("ct_state = \"fresh\", verdict = \"accept\""), "unknown conntrack state \"fresh\"");
	refused(RULE("match_mark = \"0x10/zz\", verdict = \"accept\""), "key \"match_mark\"");
	refused(RULE("uid = -1, verdict = \"accept\""), "key \"uid\"");
	refused(RULE("len = \"10-\", verdict = \"accept\""), "key \"len\"");
	refused(RULE("icmp_code = 3, verdict = \"accept\""), "icmp_code\" needs icmp_type");
	refused(RULE("dport = 1, indev = 1, iif = 1, verdict = \"accept\""), "given twice");
	refused(RULE("match_queue = 65536, verdict = \"accept\""), "key \"match_queue\": 65536 is out of range");
	refused(RULE("match_queue = \"3-1\", verdict = \"accept\""), "key \"match_queue\": \"3-1\" is not a range");
	refused(RULE("match_queu = 1, verdict = \"accept\""), "unknown key (did you mean \"match_queue\"?)");
}

static void test_action_errors(void **state)
{
	(void)state;
	refused(RULE("proto = \"tcp\""), "needs an action");
	refused(RULE("verdict = \"drop\", lua = function() end"), "more than one action");
	refused(RULE("verdict = \"refuse\""), "key \"verdict\": expected");
	refused(RULE("lua = \"return 1\""), "key \"lua\": expected a function");
	refused(RULE("lua = function() end, mark = 1"), "key \"mark\" needs a verdict");
	refused(RULE("verdict = \"queue\""), "verdict \"queue\" and key \"queue\"");
	refused(RULE("verdict = \"accept\", queue = 3"), "verdict \"queue\" and key \"queue\"");
	refused(RULE("verdict = \"repeat\", bypass = true"),
		"key \"bypass\": verdict \"repeat\" cannot decide a connection");
	refused(RULE("verdict = \"accept\", mark = \"0x10/\""), "key \"mark\": \"0x10/\" is not");
	refused(RULE("verdict = \"accept\", mark = { value = 1, maks = 2 }"),
		"key \"mark\": unknown key \"maks\" in a mark table (value, mask)");
	refused(RULE("match_mark = { value = 1, 2 }, verdict = \"accept\""), "key \"match_mark\": ");
	refused(RULE("verdict = \"accept\", on_error = \"drop\""), "on_error\" is for lua and plugin");
	refused(RULE("plugin = \"x.so\""), "keys \"plugin\" and \"symbol\" go together");
	refused(RULE("plugin = \"no-such-plugin.so\", symbol = \"f\""), "rule 1 \"r\": key \"plugin\":");
}

static void test_valid_file_summary(void **state)
{
	char err[512], *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct vd_ruleset *rs = vt_rules_load(
		"return { default = \"drop\", sets = { lan = { \"198.18.0.0/15\", \"2001:db8::/32\" } },"
		" rules = {"
		" { name = \"ssh\", proto = \"tcp\", dport = 22, src = \"@lan\", verdict = \"accept\" },"
		" { name = \"web\", proto = \"tcp\", dport = \"8000-8999\", verdict = \"accept\", mark = 0x10 },"
		" { name = \"q\", proto = \"udp\", match_queue = { 0, \"4-5\" }, verdict = \"queue\","
		"   queue = 3, bypass = true },"
		" { dport = { 1, 2 }, lua = function(p) return \"drop\" end } } }",
		err, sizeof(err));

	(void)state;
	if (!rs)
		fail_msg("%s", err);
	assert_int_equal(rs->file.nrules, 4);
	assert_int_equal(rs->file.default_verdict.kind, VD_VERDICT_DROP);
	assert_string_equal(rs->file.rules[3].name, "rule4");
	vd_ruleset_summary(rs, out);
	fclose(out);
	assert_non_null(strstr(text, "4 rules (1 lua, 0 plugin), default drop"));
	assert_non_null(strstr(text, "src=198.18.0.0/15,2001:db8::/32"));
	assert_non_null(strstr(text, "dport=8000-8999 -> accept mark 0x10/0xffffffff"));
	assert_non_null(strstr(text, "proto=udp match_queue=0,4-5 -> queue 3 bypass"));
	assert_non_null(strstr(text, "-> lua hook (on error drop)"));
	free(text);
	vd_ruleset_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_level_errors),
		cmocka_unit_test(test_first_packets),
		cmocka_unit_test(test_match_key_errors),
		cmocka_unit_test(test_action_errors),
		cmocka_unit_test(test_valid_file_summary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
