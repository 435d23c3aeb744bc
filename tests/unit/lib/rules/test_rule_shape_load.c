/* test_rule_shape_load.c - reading the shaping keys (delay, jitter,
 * distribution, loss, rate, burst, per, limit, the file's seed): each
 * refusal is one exact line naming the file, the rule, the key and the
 * value; and what --check prints. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules_fixture.h"

#define RULE(...) "return { rules = { { name = \"r\", verdict = \"accept\", " __VA_ARGS__ " } } }"

#define refused vt_rules_refused_exactly
#define has vt_rules_summary_has

static void test_value_errors(void **state)
{
	(void)state;
	refused(RULE("delay = \"20\""),
		"rule 1 \"r\": key \"delay\": \"20\": a time needs a unit (ns, us, ms, s)");
	refused(RULE("delay = \"20min\""),
		"rule 1 \"r\": key \"delay\": \"20min\": unknown time unit \"min\" (ns, us, ms, s)");
	refused(RULE("delay = -1"), "rule 1 \"r\": key \"delay\": -1 is out of range (0 to 3600)");
	refused(RULE("delay = true"),
		"rule 1 \"r\": key \"delay\": expected a string like \"20ms\", got boolean");
	refused(RULE("delay = \"1ms\", jitter = \"x\""),
		"rule 1 \"r\": key \"jitter\": \"x\" is not a time (a number and a unit: ns, us, ms, s)");
	refused(RULE("delay = \"1ms\", jitter = \"1ms\", distribution = \"gauss\""),
		"rule 1 \"r\": key \"distribution\": expected \"uniform\", \"normal\", \"pareto\" or "
		"\"paretonormal\"");
	refused(RULE("loss = \"1\""),
		"rule 1 \"r\": key \"loss\": \"1\" is not a percent (\"1%\", \"0.5%\")");
	refused(RULE("loss = 1.5"),
		"rule 1 \"r\": key \"loss\": 1.5 is not a probability (0 to 1, or \"1%\")");
	refused(RULE("loss = \"101%\""), "rule 1 \"r\": key \"loss\": \"101%\": a percent is at most 100%");
	refused(RULE("loss = { model = \"markov\", p = 0.1 }"),
		"rule 1 \"r\": key \"loss.model\": unknown loss model (\"gemodel\"; a plain loss = "
		"\"1%\" is random loss)");
	refused(RULE("loss = { model = \"gemodel\", p = 0.1, q = 0.2 }"),
		"rule 1 \"r\": key \"loss.q\": unknown key (model, p, r, h, k)");
	refused(RULE("loss = { model = \"gemodel\", r = 0.2 }"),
		"rule 1 \"r\": key \"loss\": gemodel needs p (good to bad)");
	refused(RULE("loss = { p = 0.1 }"), "rule 1 \"r\": key \"loss\": needs model = \"gemodel\"");
	refused(RULE("loss = { model = \"gemodel\", p = 0.1, h = \"150%\" }"),
		"rule 1 \"r\": key \"loss.h\": \"150%\": a percent is at most 100%");
	refused(RULE("rate = \"10mb\", burst = \"1kb\""),
		"rule 1 \"r\": key \"rate\": \"10mb\": unknown rate unit \"mb\" (bit, kbit, mbit, gbit, "
		"bps, kbps, mbps, gbps)");
	refused(RULE("rate = 0, burst = \"1kb\""),
		"rule 1 \"r\": key \"rate\": a rate must be at least 1bit");
	refused(RULE("rate = \"1mbit\", burst = \"32\""),
		"rule 1 \"r\": key \"burst\": \"32\": a size needs a unit (b, kb, mb, gb)");
	refused(RULE("rate = \"1mbit\", burst = \"1kb\", per = \"port\""),
		"rule 1 \"r\": key \"per\": expected \"flow\", \"src\", \"dst\" or \"rule\"");
	refused(RULE("delay = \"1ms\", limit = 0"), "rule 1 \"r\": key \"limit\": 0 is out of range "
		"1-1000000");
	refused(RULE("delya = \"1ms\""), "rule 1 \"r\": key \"delya\": unknown key (did you mean "
		"\"delay\"?)");
}

static void test_combination_errors(void **state)
{
	(void)state;
	refused("return { rules = { { name = \"r\", verdict = \"drop\", delay = \"1ms\" } } }",
		"rule 1 \"r\": shaping keys (delay, jitter, loss, rate, limit) need a verdict that "
		"lets the packet go on: accept, repeat or queue");
	refused(RULE("jitter = \"1ms\""), "rule 1 \"r\": key \"jitter\" needs delay");
	refused(RULE("delay = \"1ms\", distribution = \"normal\""),
		"rule 1 \"r\": key \"distribution\" needs jitter");
	refused(RULE("rate = \"1mbit\""), "rule 1 \"r\": keys \"rate\" and \"burst\" go together");
	refused(RULE("burst = \"1kb\""), "rule 1 \"r\": keys \"rate\" and \"burst\" go together");
	refused(RULE("delay = \"1ms\", per = \"flow\""), "rule 1 \"r\": key \"per\" needs rate");
	refused(RULE("loss = \"1%\", limit = 5"),
		"rule 1 \"r\": key \"limit\" needs delay or rate (it bounds held packets)");
	refused("return { rules = {}, logs = { { name = \"l\", verdict = \"accept\", delay = \"1ms\" } } }",
		"logs entry 1 \"l\": logged packets cannot be delayed or dropped by shaping keys");
	refused("return { seed = -1, rules = {} }", "key \"seed\": expected a whole number >= 0");
	refused("return { seed = \"x\", rules = {} }", "key \"seed\": expected a whole number >= 0");
}

static void test_check_output(void **state)
{
	(void)state;
	has(RULE("delay = \"20ms\", jitter = \"5ms\", distribution = \"normal\""),
	    " delay=20ms jitter=5ms distribution=normal\n");
	has(RULE("delay = \"20ms\", jitter = \"5ms\""), " delay=20ms jitter=5ms distribution=uniform\n");
	has(RULE("loss = \"1%\""), "accept loss=1%\n");
	has(RULE("loss = { model = \"gemodel\", p = \"1%\", r = \"30%\" }"),
	    " loss=gemodel(p=0.01 r=0.3 h=0 k=1, 3.226%)\n");
	has(RULE("rate = \"10mbit\", burst = \"32kb\", per = \"src\", limit = 100"),
	    " limit=100 rate=10mbit burst=32768b per=src\n");
	has(RULE("rate = 2e6, burst = 1500"), " rate=2mbit burst=1500b per=rule\n");
	has("return { seed = 42, rules = { { verdict = \"accept\", delay = 0.25 } } }",
	    "seed 42: shaping's random choices repeat\n");
	has("return { seed = 42, rules = { { verdict = \"accept\", delay = 0.25 } } }", " delay=250ms\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value_errors),
		cmocka_unit_test(test_combination_errors),
		cmocka_unit_test(test_check_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
