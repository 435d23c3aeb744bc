/* test_rule_rewrite_load.c - reading `set = { ... }`: every refusal is one
 * exact line naming the file, the rule and the key; the accepted forms
 * (DSCP and ECN names, any case) and what --check prints, its warnings
 * about rewrites that can only be refused or never apply included. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules_fixture.h"

#define RULE(...) "return { rules = { { name = \"r\", " __VA_ARGS__ " } } }"
#define SET(...) RULE("verdict = \"accept\", set = { " __VA_ARGS__ " }")

#define refused vt_rules_refused_exactly
#define has vt_rules_summary_has

static void has_no_warning(const char *text)
{
	char *s = vt_rules_summary(text);

	if (strstr(s, "warning:"))
		fail_msg("unexpected warning:\n%s", s);
	free(s);
}

static void test_set_value_errors(void **state)
{
	(void)state;
	refused(RULE("verdict = \"accept\", set = 7"),
		"rule 1 \"r\": key \"set\": expected a table like { ttl = 64, dscp = \"ef\" }, got number");
	refused(RULE("verdict = \"accept\", set = {}"),
		"rule 1 \"r\": key \"set\": is empty: leave the key out instead");
	refused(RULE("verdict = \"accept\", set = { 5 }"),
		"rule 1 \"r\": key \"set\": keys must be names, not number");
	refused(RULE("verdict = \"accept\", set = setmetatable({}, {})"),
		"rule 1 \"r\": key \"set\": a table with a metatable is not allowed here");
	refused(SET("tll = 1"), "rule 1 \"r\": key \"set.tll\": unknown key (ttl, dscp, ecn, src, dst, "
		"sport, dport, tcp_flags, mss, df)");
	refused(SET("ttl = 256"), "rule 1 \"r\": key \"set.ttl\": 256 is out of range 0-255");
	refused(SET("ttl = \"7\""), "rule 1 \"r\": key \"set.ttl\": expected a whole number, got string");
	refused(SET("dscp = 64"), "rule 1 \"r\": key \"set.dscp\": 64 is out of range 0-63");
	refused(SET("dscp = \"af14\""), "rule 1 \"r\": key \"set.dscp\": unknown DSCP name \"af14\" "
		"(0-63, cs0-cs7, af11-af43, ef, va, le)");
	refused(SET("ecn = 4"), "rule 1 \"r\": key \"set.ecn\": 4 is out of range 0-3");
	refused(SET("ecn = \"ect2\""), "rule 1 \"r\": key \"set.ecn\": unknown ECN name \"ect2\" "
		"(0-3, not-ect, ect1, ect0, ce)");
	refused(SET("ecn = true"), "rule 1 \"r\": key \"set.ecn\": expected a whole number, got boolean");
	refused(SET("src = \"198.18.0.0/15\""), "rule 1 \"r\": key \"set.src\": \"198.18.0.0/15\" is "
		"not an IPv4 or IPv6 address");
	refused(SET("dst = 7"), "rule 1 \"r\": key \"set.dst\": expected an address string, got number");
	refused(SET("sport = 65536"), "rule 1 \"r\": key \"set.sport\": 65536 is out of range 0-65535");
	refused(SET("dport = -1"), "rule 1 \"r\": key \"set.dport\": -1 is out of range 0-65535");
	refused(SET("mss = 0"), "rule 1 \"r\": key \"set.mss\": 0 is out of range 1-65535");
	refused(SET("df = 1"), "rule 1 \"r\": key \"set.df\": expected true or false");
	refused(SET("tcp_flags = \"syn,bogus\""), "rule 1 \"r\": key \"set.tcp_flags\": unknown TCP flag "
		"\"bogus\" (fin syn rst psh ack urg ece cwr, \"!\" for clear)");
}

static void test_set_rule_errors(void **state)
{
	(void)state;
	/* The address's family contradicts what the rule matches. */
	refused(RULE("src = \"198.18.0.0/15\", verdict = \"accept\", set = { dst = \"2001:db8::1\" }"),
		"rule 1 \"r\": key \"set.dst\": \"2001:db8::1\" is IPv6, but the rule matches IPv4 "
		"packets only (src, dst)");
	refused(RULE("dst = { \"2001:db8::/32\" }, verdict = \"accept\", set = { src = \"198.18.0.1\" }"),
		"rule 1 \"r\": key \"set.src\": \"198.18.0.1\" is IPv4, but the rule matches IPv6 "
		"packets only (src, dst)");
	refused(SET("src = \"198.18.0.1\", dst = \"2001:db8::1\""),
		"rule 1 \"r\": key \"set.dst\": \"2001:db8::1\" is IPv6, but set.src is IPv4");
	refused("return { rules = {}, logs = { { name = \"l\", verdict = \"accept\", set = { ttl = 1 } } } }",
		"logs entry 1 \"l\": key \"set\": logged packets cannot be rewritten");
	refused(RULE("verdict = \"accept\", on_error = \"drop\""),
		"rule 1 \"r\": key \"on_error\" is for lua and plugin hooks and rules with set");
}

static void test_set_loads_and_check_prints(void **state)
{
	(void)state;
	has(SET("ttl = 7, dscp = 46, dport = 8080"), "-> accept set dport=8080 ttl=7 dscp=46\n");
	has(SET("dscp = \"CS1\", ecn = \"Not-ECT\""), "set dscp=8 ecn=0");
	has(SET("dscp = \"af11\""), "set dscp=10");
	has(SET("dscp = \"AF43\", ecn = \"ECT1\""), "set dscp=38 ecn=1");
	has(SET("dscp = \"va\", ecn = \"ect0\""), "set dscp=44 ecn=2");
	has(SET("dscp = \"cs7\", ecn = 3"), "set dscp=56 ecn=3");
	has(SET("dscp = \"le\""), "set dscp=1");
	/* The fixed order, whatever the order in the file. */
	has(SET("mss = 1400, df = false, tcp_flags = \"syn,!ack\", src = \"2001:db8::1\","
		" dst = \"2001:db8::2\", sport = 1, ttl = 0"),
	    "set src=2001:db8::1 dst=2001:db8::2 sport=1 ttl=0 df=false tcp_flags=syn,!ack mss=1400");
	has(RULE("src = \"198.18.0.0/15\", verdict = \"accept\", set = { dst = \"198.19.0.1\" }"),
	    "set dst=198.19.0.1");
	/* Beside a hook, with on_error; the default on_error of a verdict rule
	 * is its verdict. */
	has(RULE("lua = function(p) return \"accept\" end, on_error = \"drop\", set = { ttl = 1 }"),
	    "-> lua hook (on error drop) set ttl=1");
	has(SET("ttl = 1"), "-> accept set ttl=1\n");
	has(RULE("verdict = \"accept\", on_error = \"drop\", set = { ttl = 1 }"),
	    "-> accept set ttl=1 (on error drop)");
}

static void test_check_warnings(void **state)
{
	(void)state;
	has(RULE("proto = \"icmp\", verdict = \"accept\", set = { dport = 1 }"),
	    "warning: rule 1 \"r\": set.dport is refused on icmp packets (tcp and udp only)\n");
	has(RULE("proto = { \"tcp\", \"sctp\" }, verdict = \"accept\", set = { sport = 1 }"),
	    "warning: rule 1 \"r\": set.sport is refused on sctp packets (its CRC32c is not "
	    "recomputed)\n");
	has(RULE("proto = \"udp\", verdict = \"accept\", set = { mss = 1000 }"),
	    "warning: rule 1 \"r\": set.mss is refused on udp packets (TCP only)\n");
	has(RULE("proto = 47, verdict = \"accept\", set = { tcp_flags = \"syn\" }"),
	    "warning: rule 1 \"r\": set.tcp_flags is refused on gre packets (TCP only)\n");
	has(RULE("proto = { 50, 51 }, verdict = \"accept\", set = { tcp_flags = \"syn\" }"),
	    "warning: rule 1 \"r\": set.tcp_flags is refused on esp, ah packets (TCP only)\n");
	has(RULE("proto = { 1, 2, 3, 4, 5, 6 }, verdict = \"accept\", set = { mss = 536 }"),
	    "warning: rule 1 \"r\": set.mss is refused on icmp, proto 2, proto 3, proto 4, ... "
	    "packets (TCP only)\n");
	has(RULE("dst = \"2001:db8::/32\", verdict = \"accept\", set = { df = true }"),
	    "warning: rule 1 \"r\": set.df is refused: the rule matches IPv6 packets only (no DF bit)\n");
	has(RULE("verdict = \"drop\", set = { ttl = 1 }"),
	    "warning: rule 1 \"r\": set is never applied: the verdict is drop\n");
	has_no_warning(RULE("proto = { \"tcp\", \"udp\" }, verdict = \"accept\", set = { dport = 1 }"));
	has_no_warning(RULE("proto = \"tcp\", dst = \"198.18.0.0/15\", verdict = \"accept\","
			    " set = { mss = 1200, df = true, tcp_flags = \"!ece\" }"));
	has_no_warning(SET("dport = 1, mss = 1200, df = true"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_value_errors),
		cmocka_unit_test(test_set_rule_errors),
		cmocka_unit_test(test_set_loads_and_check_prints),
		cmocka_unit_test(test_check_warnings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
