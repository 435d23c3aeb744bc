/*
 * test_rules_reload.c - the RCU swap under fire: two threads evaluate packets
 * while the main thread replaces the table 10,000 times (VT_RELOAD_SWAPS
 * when set: scripts/test.sh gives the sanitized suites 2,000, a third of
 * their time) and 200 times more with a Lua hook, whose per-worker states
 * are built and torn down each time. Every evaluation must see one whole table, counters must add up
 * exactly, and a file that fails to load must leave the old table live.
 * Built and run under TSan by scripts/test.sh (label "concurrency").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "rcu.h"

#include <verdict/queue.h>
#include <verdict/rules.h>

#include "rules_fixture.h"

#define WORKERS 2

struct evaluator {
	struct vd_rules *rules;
	unsigned index;
	struct vd_packet pkt;
	atomic_bool *stop;
	unsigned long evaluations, bad;
};

/* Table A accepts dport 1 and marks it 0xa; table B drops it and marks 0xb:
 * any other combination would be a torn table. */
static const char *table(char which, bool with_lua)
{
	static char text[4096];
	size_t off = 0;

	off += (size_t)snprintf(text + off, sizeof(text) - off, "return { rules = {");
	for (int i = 0; i < 30; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"{ name = \"filler%d\", dport = %d, verdict = \"drop\" },",
					i, 20000 + i);
	if (with_lua)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"{ name = \"hook\", dport = 2, lua = function(p) return \"%s\" end },",
					which == 'a' ? "accept" : "drop");
	snprintf(text + off, sizeof(text) - off,
		 "{ name = \"flip\", dport = 1, verdict = \"%s\", mark = 0x%c } } }",
		 which == 'a' ? "accept" : "drop", which);
	return text;
}

static void *evaluate(void *arg)
{
	struct evaluator *e = arg;

	rcu_register_thread();
	while (!atomic_load_explicit(e->stop, memory_order_relaxed)) {
		struct vd_verdict v = vd_rules_eval(e->rules, e->index, &e->pkt);
		bool whole = (v.kind == VD_VERDICT_ACCEPT && v.mark == 0xa) ||
			     (v.kind == VD_VERDICT_DROP && v.mark == 0xb);

		e->bad += !whole;
		if (++e->evaluations % 16 == 0)
			vd_rcu_quiescent(); /* what the engine does once per batch */
	}
	rcu_unregister_thread();
	return NULL;
}

static void swap_under_load(unsigned reloads, bool with_lua)
{
	struct vd_rules_config cfg = { .path = vt_rules_write(table('a', with_lua)),
				       .nworkers = WORKERS };
	char err[VD_ERRBUF_SIZE];
	struct vd_rules *rules = vd_rules_open(&cfg, err);
	struct evaluator ev[WORKERS];
	pthread_t threads[WORKERS];
	atomic_bool stop = false;
	struct vd_rule_stats st[64];
	unsigned long total = 0, hits = 0;
	size_t n;

	if (!rules)
		fail_msg("%s", err);
	for (unsigned w = 0; w < WORKERS; w++) {
		ev[w] = (struct evaluator){ .rules = rules, .index = w, .stop = &stop };
		ev[w].pkt = *vt_packet(&(struct vt_packet_spec){ .version = 4, .proto = IPPROTO_UDP,
								 .dport = 1 });
		assert_int_equal(pthread_create(&threads[w], NULL, evaluate, &ev[w]), 0);
	}
	for (unsigned i = 1; i <= reloads; i++) {
		vt_rules_write(table(i % 2 ? 'b' : 'a', with_lua));
		if (vd_rules_reload(rules, err) < 0)
			fail_msg("reload %u: %s", i, err);
	}
	/* A broken file is refused and the last good table keeps answering. */
	vt_rules_write("return { rules = { { name = \"x\", dprt = 1, verdict = \"drop\" } } }");
	assert_int_equal(vd_rules_reload(rules, err), -1);
	assert_non_null(strstr(err, "key \"dprt\": unknown key"));
	atomic_store(&stop, true);
	for (unsigned w = 0; w < WORKERS; w++) {
		pthread_join(threads[w], NULL);
		assert_int_equal(ev[w].bad, 0);
		assert_true(ev[w].evaluations > 0);
		total += ev[w].evaluations;
	}
	assert_int_equal(vd_rules_generation(rules), reloads + 1);
	n = vd_rules_stats(rules, st, 64);
	for (size_t i = 0; i < n && i < 64; i++)
		hits += st[i].hits;
	assert_int_equal(hits, total); /* kept across every reload, none lost */
	assert_string_equal(st[n - 1].name, "flip");
	assert_int_equal(st[n - 1].hits, total);
	vd_rules_close(rules);
}

static void test_ten_thousand_swaps(void **state)
{
	const char *env = getenv("VT_RELOAD_SWAPS");
	unsigned swaps = env && atoi(env) > 0 ? (unsigned)atoi(env) : 10000;

	(void)state;
	swap_under_load(swaps, false);
}

static void test_swaps_with_lua_states(void **state)
{
	(void)state;
	swap_under_load(200, true);
}

/* Cancelling a reload (none running, or one that then fails) must not touch
 * the live table: its Lua states were loaded with a flag of their own. The
 * hook runs long enough for the budget to look at the flag. */
static void test_cancel_leaves_the_live_hooks_alone(void **state)
{
	struct vd_rules_config cfg = { .path = vt_rules_write(
		"return { default = \"accept\", rules = { { name = \"h\", dport = 9, "
		"lua = function(p) local n = 0 for i = 1, 5000 do n = n + i end "
		"return \"drop\" end } } }"), .nworkers = 1 };
	struct vt_packet_spec spec = { .version = 4, .proto = IPPROTO_UDP, .dport = 9 };
	char err[VD_ERRBUF_SIZE];
	struct vd_rules *r;
	struct vd_rules_match m;
	struct vd_verdict v;

	(void)state;
	vd_rules_reader_register();
	r = vd_rules_open(&cfg, err);
	assert_non_null(r);
	vd_rules_reload_cancel(r);
	v = vd_rules_eval_match(r, 0, vt_packet(&spec), &m);
	assert_int_equal(v.kind, VD_VERDICT_DROP);
	assert_false(m.hook_failed);
	/* A reload after a cancel loads (the flag of a load is reset). */
	assert_int_equal(vd_rules_reload(r, err), 0);
	vd_rules_reload_cancel(r);
	v = vd_rules_eval_match(r, 0, vt_packet(&spec), &m);
	assert_int_equal(v.kind, VD_VERDICT_DROP);
	assert_false(m.hook_failed);
	vd_rules_reader_quiescent();
	vd_rules_close(r);
	vd_rules_reader_unregister();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ten_thousand_swaps),
		cmocka_unit_test(test_swaps_with_lua_states),
		cmocka_unit_test(test_cancel_leaves_the_live_hooks_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
