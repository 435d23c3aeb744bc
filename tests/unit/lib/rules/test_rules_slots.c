/*
 * test_rules_slots.c - counter slots over many reloads: names never run out
 * (there used to be a lifetime limit of 65,535 names), the counters of a
 * rule that disappears are freed and its slot reused, and a rule that stays
 * keeps counting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
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

#define NAMES 20000

/* "keep" (dport 1), then NAMES rules named g<gen>_<i> (dport 1000 + i % 50000). */
static const char *write_generation(unsigned gen)
{
	size_t cap = (size_t)NAMES * 64 + 256, off = 0;
	char *text = malloc(cap);
	const char *path;

	assert_non_null(text);
	off += (size_t)snprintf(text + off, cap - off,
				"return { rules = {\n{ name = \"keep\", dport = 1, verdict = \"accept\" },\n");
	for (unsigned i = 0; i < NAMES; i++)
		off += (size_t)snprintf(text + off, cap - off,
					"{ name = \"g%u_%u\", dport = %u, verdict = \"drop\" },\n", gen, i,
					1000 + i);
	snprintf(text + off, cap - off, "} }\n");
	path = vt_rules_write(text);
	free(text);
	return path;
}

static const struct vd_rule_stats *stat_of(const struct vd_rule_stats *st, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(st[i].name, name) == 0)
			return &st[i];
	fail_msg("no counters for rule \"%s\"", name);
	return NULL;
}

static void count(struct vd_rules *r, uint16_t dport, unsigned times)
{
	struct vd_packet pkt = *vt_packet(&(struct vt_packet_spec){ .version = 4,
								     .proto = IPPROTO_UDP,
								     .dport = dport });

	for (unsigned i = 0; i < times; i++)
		vd_rules_eval(r, 0, &pkt);
	vd_rcu_quiescent();
}

static void test_reloads_adding_names_never_run_out(void **state)
{
	struct vd_rules_config cfg = { .nworkers = 1 };
	struct vd_rule_stats *st = calloc(NAMES + 2, sizeof(*st));
	char err[VD_ERRBUF_SIZE];
	struct vd_rules *r;
	size_t n;

	(void)state;
	assert_non_null(st);
	rcu_register_thread();
	cfg.path = write_generation(0);
	r = vd_rules_open(&cfg, err);
	if (!r)
		fail_msg("%s", err);
	count(r, 1, 3);    /* keep */
	count(r, 1007, 5); /* g0_7 */
	/* 5 reloads of 20,000 new names each: 120,000 distinct names in all. */
	for (unsigned gen = 1; gen <= 5; gen++) {
		write_generation(gen);
		if (vd_rules_reload(r, err) < 0)
			fail_msg("reload %u: %s", gen, err);
		/* slots made: the live names and the previous table's, reused */
		assert_true(vd_rules_slot_count(r) <= 2 * NAMES + 2);
		count(r, 1, 1);
	}
	n = vd_rules_stats(r, st, NAMES + 2);
	assert_int_equal(n, NAMES + 2);
	assert_int_equal(stat_of(st, n, "keep")->hits, 3 + 5); /* kept across reloads */
	/* g0_7's slot was freed with its counters: back again, it starts from 0. */
	write_generation(0);
	assert_int_equal(vd_rules_reload(r, err), 0);
	n = vd_rules_stats(r, st, NAMES + 2);
	assert_int_equal(stat_of(st, n, "g0_7")->hits, 0);
	assert_int_equal(stat_of(st, n, "keep")->hits, 8);
	count(r, 1007, 2);
	n = vd_rules_stats(r, st, NAMES + 2);
	assert_int_equal(stat_of(st, n, "g0_7")->hits, 2);
	vd_rules_close(r);
	rcu_unregister_thread();
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reloads_adding_names_never_run_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
