/* test_rule_load_errors.c - what a hostile or careless rules file can do to
 * the loader: sets that name themselves or nest without end, metatables whose
 * metamethods the loader would run, lists with holes or names, numbers and
 * names that do not fit. Each is refused with one exact line naming the
 * file, the rule and the key; none crashes, hangs or loads silently. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules_fixture.h"

#define refused vt_rules_refused_exactly

#define loads vt_rules_summary_has

/* sets = { s0 = { "@s1" }, ..., s<n-1> = { "@s<n>" }, s<n> = { "198.18.0.7" } },
 * with `refs` references to the next set in each, and a rule using @s0. */
static char *set_chain(int n, int refs)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	fputs("return { sets = {", f);
	for (int i = 0; i < n; i++) {
		fprintf(f, " s%d = {", i);
		for (int r = 0; r < refs; r++)
			fprintf(f, " \"@s%d\",", i + 1);
		fputs(" },", f);
	}
	fprintf(f, " s%d = { \"198.18.0.7\" } },\n"
		"  rules = { { name = \"x\", src = \"@s0\", verdict = \"drop\" } } }", n);
	fclose(f);
	return text;
}

#define USE_A " rules = { { name = \"x\", src = \"@a\", verdict = \"drop\" } } }"

static void test_sets_that_name_themselves(void **state)
{
	(void)state;
	/* Each aborted --check and killed a live daemon on reload. */
	refused("return { sets = { a = \"@a\" }," USE_A, "set \"a\": refers to itself");
	refused("return { sets = { a = { \"@a\" } }," USE_A, "set \"a\": refers to itself");
	refused("return { sets = { a = { \"10.0.0.1\", \"@b\" }, b = { \"@a\" } }," USE_A,
		"set \"a\": refers to itself through \"b\"");
	refused("return { sets = { c = \"@a\", b = \"@c\", a = \"@b\" }," USE_A,
		"set \"a\": refers to itself through \"b\", \"c\"");
	/* Even when no rule uses the set. */
	refused("return { sets = { b = \"@a\", a = \"@b\" }, rules = {} }",
		"set \"a\": refers to itself through \"b\"");
}

static void test_sets_nest_at_most_16_deep(void **state)
{
	char *text = set_chain(25, 1);

	(void)state;
	/* 25 sets each naming the next smashed the Lua stack. */
	refused(text, "set \"s0\": sets nest more than 16 deep (through \"s16\")");
	free(text);
	text = set_chain(16, 1);
	refused(text, "set \"s0\": sets nest more than 16 deep (through \"s16\")");
	free(text);
	/* a reaches x0 ... x9 first; b reaches x0 again under 8 sets: 18 deep. */
	refused("return { sets = { a = '@x0', x0 = '@x1', x1 = '@x2', x2 = '@x3', x3 = '@x4',"
		" x4 = '@x5', x5 = '@x6', x6 = '@x7', x7 = '@x8', x8 = '@x9', x9 = '10.0.0.1',"
		" b = '@c0', c0 = '@c1', c1 = '@c2', c2 = '@c3', c3 = '@c4', c4 = '@c5', c5 = '@c6',"
		" c6 = '@x0' }, rules = {} }",
		"set \"b\": sets nest more than 16 deep (through \"x0\")");
	/* s0 ... s15: 16 sets, the leaf included; the rule sees the leaf. */
	text = set_chain(15, 1);
	loads(text, "src=198.18.0.7/32 -> drop");
	free(text);
}

static void test_shared_sets_are_read_once(void **state)
{
	/* Four references to the next set on each of 15 levels: 4^15 copies of
	 * the leaf if every reference were expanded again. */
	char *text = set_chain(15, 4);

	(void)state;
	loads(text, "src=198.18.0.7/32 -> drop");
	free(text);
}

static void test_set_errors_name_the_set(void **state)
{
	(void)state;
	refused("return { sets = { a = { \"10.0.0.0/33\" } }, rules = {} }",
		"set \"a\": \"10.0.0.0/33\" is not an IPv4 or IPv6 address or prefix");
	refused("return { sets = { a = { \"@b\" } }, rules = {} }",
		"set \"a\": set \"@b\" is not declared under `sets`");
	refused("return { sets = { \"10.0.0.1\" }, rules = {} }",
		"key \"sets\": set names are strings (sets = { name = { ... } }), not number");
	refused("return { sets = { a = 7 }, rules = {} }",
		"set \"a\": expected an address or prefix string, got number");
	refused("return { sets = { a = { \"10.0.0.1\", { \"10.0.0.2\" } } }, rules = {} }",
		"set \"a\": lists do not nest");
	refused("return { sets = { a = { \"10.0.0.1\", nil, \"10.0.0.3\" } }, rules = {} }",
		"set \"a\": entry 2 is missing: a list has no holes");
}

/* Metamethods would run with no budget (a looping __index hung --check):
 * the loader reads tables raw and refuses those with a metatable. */
static void test_metatables_are_refused(void **state)
{
	(void)state;
	refused("return setmetatable({ rules = {} }, { __index = function() error('boom') end })",
		"the returned table has a metatable: not allowed (the loader reads tables as they are)");
	refused("return { rules = setmetatable({}, { __len = function() return 3 end }) }",
		"key \"rules\": a table with a metatable is not allowed here");
	refused("return { rules = { setmetatable({ verdict = 'drop', name = 'ssh' },"
		" { __index = function() error('boom') end }) } }",
		"rule 1 \"ssh\": a table with a metatable is not allowed here");
	refused("return { rules = { { name = 'r', verdict = 'drop',"
		" dport = setmetatable({ 22 }, { __len = function() return 2 end }) } } }",
		"rule 1 \"r\": key \"dport\": a table with a metatable is not allowed here");
	refused("return { rules = { { name = 'r', verdict = 'accept',"
		" mark = setmetatable({ value = 1 }, { __index = function() return 0 end }) } } }",
		"rule 1 \"r\": key \"mark\": a table with a metatable is not allowed here");
	refused("return { sets = setmetatable({}, { __index = function() return '10.0.0.1' end }),"
		USE_A, "key \"sets\": a table with a metatable is not allowed here");
	refused("return { sets = { a = setmetatable({ '10.0.0.1' }, {}) }," USE_A,
		"set \"a\": a table with a metatable is not allowed here");
}

static void test_lists_have_no_holes_or_names(void **state)
{
	(void)state;
	/* Rule 3 was silently dropped. */
	refused("return { rules = { [1] = { verdict = 'drop' }, [3] = { verdict = 'accept' } } }",
		"key \"rules\": entry 2 is missing: a list has no holes");
	/* Zero rules were loaded. */
	refused("return { rules = { a = { verdict = 'drop' } } }",
		"key \"rules\": has a key \"a\": a list takes no names");
	refused("return { rules = { { verdict = 'drop' }, [0] = { verdict = 'drop' } } }",
		"key \"rules\": has a key 0: a list's entries are numbered from 1");
	refused("return { rules = { { verdict = 'drop' }, [true] = 1 } }",
		"key \"rules\": has a boolean key: a list's entries are numbered from 1");
	refused("return { rules = {}, logs = { [2] = { verdict = 'drop' } } }",
		"key \"logs\": entry 1 is missing: a list has no holes");
	refused("return { rules = { { name = 'r', verdict = 'drop', dport = { 1, nil, 3 } } } }",
		"rule 1 \"r\": key \"dport\": entry 2 is missing: a list has no holes");
	refused("return { rules = { { name = 'r', verdict = 'drop', ct_state = { 'new', x = 'invalid' } } } }",
		"rule 1 \"r\": key \"ct_state\": has a key \"x\": a list takes no names");
}

static void test_prefix_lengths(void **state)
{
	(void)state;
	/* 4294967328 wrapped to 32. */
	refused("return { rules = { { name = 'r', verdict = 'drop', src = '10.0.0.0/4294967328' } } }",
		"rule 1 \"r\": key \"src\": \"10.0.0.0/4294967328\" is not an IPv4 or IPv6 address or prefix");
	refused("return { rules = { { name = 'r', verdict = 'drop', src = '10.0.0.0/+8' } } }",
		"rule 1 \"r\": key \"src\": \"10.0.0.0/+8\" is not an IPv4 or IPv6 address or prefix");
	refused("return { rules = { { name = 'r', verdict = 'drop', src = '10.0.0.0/ 8' } } }",
		"rule 1 \"r\": key \"src\": \"10.0.0.0/ 8\" is not an IPv4 or IPv6 address or prefix");
	refused("return { rules = { { name = 'r', verdict = 'drop', dst = '2001:db8::/' } } }",
		"rule 1 \"r\": key \"dst\": \"2001:db8::/\" is not an IPv4 or IPv6 address or prefix");
	refused("return { rules = { { name = 'r', verdict = 'drop', dst = '2001:db8::/129' } } }",
		"rule 1 \"r\": key \"dst\": \"2001:db8::/129\" is not an IPv4 or IPv6 address or prefix");
	loads("return { rules = { { name = 'r', verdict = 'drop', src = '10.0.0.0/08', dst = '::/0' } } }",
	      "src=10.0.0.0/8 dst=::/0 -> drop");
}

static void test_logs_take_accept_or_drop(void **state)
{
	(void)state;
	refused("return { rules = {}, logs = { { name = 'l', verdict = 'queue', queue = 1 } } }",
		"logs entry 1 \"l\": key \"verdict\": expected \"accept\" or \"drop\"");
	refused("return { rules = {}, logs = { { name = 'l', verdict = 'repeat' } } }",
		"logs entry 1 \"l\": key \"verdict\": expected \"accept\" or \"drop\"");
	refused("return { default = 'repeat', rules = {} }", "key \"default\": expected \"accept\" or \"drop\"");
	refused("return { rules = { { name = 'r', lua = function() end, on_error = 'repeat' } } }",
		"rule 1 \"r\": key \"on_error\": expected \"accept\" or \"drop\"");
}

static void test_names(void **state)
{
	char text[300];

	(void)state;
	/* A NUL cut the name; a newline split the stats line. */
	refused("return { rules = { { name = 'ab\\0cd', verdict = 'drop' } } }",
		"rule 1 \"\": key \"name\": \"ab\\0...\" contains a NUL byte");
	refused("return { rules = { { name = 'ab\\ncd', verdict = 'drop' } } }",
		"rule 1 \"\": key \"name\": \"ab\\x0acd\" has a control character: names go into stats "
		"and log lines");
	refused("return { rules = { { name = 'a\\tb', verdict = 'drop' } } }",
		"rule 1 \"\": key \"name\": \"a\\x09b\" has a control character: names go into stats "
		"and log lines");
	refused("return { rules = { { name = '', verdict = 'drop' } } }",
		"rule 1 \"\": key \"name\": is empty");
	refused("return { rules = { { name = '(default)', verdict = 'drop' } } }",
		"rule 1 \"\": key \"name\": \"(default)\" names the default verdict in stats");
	/* Names are stored in 64-byte fields. */
	snprintf(text, sizeof(text), "return { rules = { { name = '%064d', verdict = 'drop' } } }", 0);
	refused(text, "rule 1 \"\": key \"name\": 64 bytes: a name has at most 63");
	snprintf(text, sizeof(text), "return { rules = { { name = '%063d', verdict = 'drop' } } }", 0);
	loads(text, "000000000000000000000000000000000000000000000000000000000000000");
	/* Other strings with a NUL were cut too. */
	refused("return { rules = { { name = 'r', verdict = 'drop', proto = 'tcp\\0x' } } }",
		"rule 1 \"r\": key \"proto\": \"tcp\\0...\" contains a NUL byte");
	refused("return { rules = { { name = 'r', verdict = 'drop', ['dport\\0x'] = 1 } } }",
		"rule 1 \"r\": \"dport\\0...\" contains a NUL byte");
	refused("return { rules = { { name = 'r', verdict = 'drop\\0accept' } } }",
		"rule 1 \"r\": key \"verdict\": \"drop\\0...\" contains a NUL byte");
	refused("return { rules = {}, ['default\\0x'] = 'drop' }", "\"default\\0...\" contains a NUL byte");
	refused("return { rules = { { name = 'r', plugin = 'x.so\\0y', symbol = 'f' } } }",
		"rule 1 \"r\": key \"plugin\": \"x.so\\0...\" contains a NUL byte");
	/* Control characters from the file never split an error line. */
	refused("return { rules = { { name = 'r', verdict = 'drop', ['dp\\nrt'] = 1 } } }",
		"rule 1 \"r\": key \"dp\\x0art\": unknown key (did you mean \"dport\"?)");
}

static void test_numbers_and_texts(void **state)
{
	(void)state;
	refused("return { rules = { { name = 'r', verdict = 'drop', dport = 22.5 } } }",
		"rule 1 \"r\": key \"dport\": 22.5 is not a whole number");
	refused("return { rules = { { name = 'r', verdict = 'queue', queue = -1 } } }",
		"rule 1 \"r\": key \"queue\": -1 is out of range 0-65535");
	refused("return { rules = { { name = 'r', verdict = 'drop', uid = '+1-5' } } }",
		"rule 1 \"r\": key \"uid\": \"+1-5\" is not a number or a \"low-high\" range");
	refused("return { rules = { { name = 'r', verdict = 'drop', len = ' 1-5' } } }",
		"rule 1 \"r\": key \"len\": \" 1-5\" is not a number or a \"low-high\" range");
	refused("return { rules = { { name = 'r', verdict = 'drop', sport = '1- 5' } } }",
		"rule 1 \"r\": key \"sport\": \"1- 5\" is not a range with low <= high <= 65535");
	refused("return { rules = { { name = 'r', verdict = 'drop', tcp_flags = '' } } }",
		"rule 1 \"r\": key \"tcp_flags\": expected flags like \"syn,!ack\"");
	refused("return { rules = { { name = 'r', verdict = 'drop', tcp_flags = 'syn,!syn' } } }",
		"rule 1 \"r\": key \"tcp_flags\": flag \"syn\" given twice");
	refused("return { rules = { { name = 'r', verdict = 'drop', ct_state = 3 } } }",
		"rule 1 \"r\": key \"ct_state\": expected a conntrack state (new, established, related, "
		"untracked, invalid), got number");
}

static void test_bytecode_names_the_file(void **state)
{
	(void)state;
	refused("\x1bLuaT junk", "attempt to load a binary chunk (mode is 't')");
}

/* An argument runs only the tests it names (a cmocka filter: "test_names",
 * "test_set*"), so each can be seen to fail on its own. */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sets_that_name_themselves),
		cmocka_unit_test(test_sets_nest_at_most_16_deep),
		cmocka_unit_test(test_shared_sets_are_read_once),
		cmocka_unit_test(test_set_errors_name_the_set),
		cmocka_unit_test(test_metatables_are_refused),
		cmocka_unit_test(test_lists_have_no_holes_or_names),
		cmocka_unit_test(test_prefix_lengths),
		cmocka_unit_test(test_logs_take_accept_or_drop),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_numbers_and_texts),
		cmocka_unit_test(test_bytecode_names_the_file),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
