/* test_rule_shape.c - a rule's shaping keys applied by the rule table:
 * delay and jitter set delay_us, loss drops (counted) at its rate, the same
 * seed gives the same drops, limit drops what is beyond the held packets
 * (counted), rate delays by the bucket, per-flow buckets are apart, a hook
 * rule is shaped after its verdict, vd_rules_delays, and the held and released
 * counts per rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "rcu.h"

#include <verdict/queue.h>
#include <verdict/rules.h>

#include "rules_fixture.h"

#define RULES(...) "return { " __VA_ARGS__ " }"

static struct vd_packet *udp(uint16_t sport, uint16_t dport)
{
	return vt_packet(&(struct vt_packet_spec){ .version = 4, .proto = IPPROTO_UDP,
						   .src = "198.18.0.1", .dst = "198.18.0.2",
						   .sport = sport, .dport = dport });
}

static struct vd_ruleset *load(const char *text)
{
	char err[VD_ERRBUF_SIZE];
	struct vd_ruleset *rs = vt_rules_load(text, err, sizeof(err));

	if (!rs)
		fail_msg("%s", err);
	return rs;
}

static struct vd_verdict eval(struct vd_ruleset *rs, struct vd_packet *p,
			      struct vd_shape_report *shaped)
{
	bool failed;
	int rule;

	return vd_ruleset_eval_shaped(rs, 0, p, NULL, &rule, &failed, shaped);
}

static void test_delay_and_jitter(void **state)
{
	struct vd_ruleset *rs = load(RULES(
		"rules = {"
		"{ name = \"fixed\", dport = 1, verdict = \"accept\", delay = \"30ms\" },"
		"{ name = \"jit\", dport = 2, verdict = \"repeat\", delay = \"20ms\", jitter = \"5ms\" },"
		"{ name = \"secs\", dport = 3, verdict = \"queue\", queue = 4, delay = 0.002 },"
		"{ name = \"plain\", verdict = \"accept\" } }"));
	struct vd_shape_report o;
	struct vd_verdict v;
	uint32_t lo = UINT32_MAX, hi = 0;

	(void)state;
	v = eval(rs, udp(9, 1), &o);
	assert_int_equal(v.kind, VD_VERDICT_ACCEPT);
	assert_int_equal(v.delay_us, 30000);
	assert_int_equal(o.outcome, VD_SHAPE_DELAYED);
	for (int i = 0; i < 2000; i++) {
		v = eval(rs, udp(9, 2), &o);
		assert_int_equal(v.kind, VD_VERDICT_REPEAT);
		lo = v.delay_us < lo ? v.delay_us : lo;
		hi = v.delay_us > hi ? v.delay_us : hi;
	}
	/* uniform over 20 ms +- 5 ms, reaching near both ends */
	assert_true(lo >= 15000 && lo < 15200);
	assert_true(hi <= 25000 && hi > 24800);
	v = eval(rs, udp(9, 3), &o);
	assert_int_equal(v.kind, VD_VERDICT_QUEUE);
	assert_int_equal(v.queue, 4);
	assert_int_equal(v.delay_us, 2000);
	v = eval(rs, udp(9, 4), &o);
	assert_int_equal(v.delay_us, 0);
	assert_int_equal(o.outcome, VD_SHAPE_NOTHING);
	vd_ruleset_free(rs);
}

/* The drops of 10,000 packets at loss 10% under seed, as a bit string. */
static unsigned loss_run(const char *seed, unsigned char *bits)
{
	char text[512];
	struct vd_ruleset *rs;
	struct vd_shape_report o;
	unsigned dropped = 0;

	snprintf(text, sizeof(text), RULES("%s rules = { { name = \"lossy\", verdict = \"accept\", "
					   "loss = \"10%%\" } }"), seed);
	rs = load(text);
	for (int i = 0; i < 10000; i++) {
		struct vd_verdict v = eval(rs, udp(9, 9), &o);
		bool d = v.kind == VD_VERDICT_DROP;

		assert_int_equal(d, o.outcome == VD_SHAPE_LOSS_DROPPED);
		assert_int_equal(v.delay_us, 0);
		dropped += d;
		bits[i] = d;
	}
	vd_ruleset_free(rs);
	return dropped;
}

static void test_loss_seeded(void **state)
{
	static unsigned char a[10000], b[10000], c[10000];
	unsigned na, nb, nc;

	(void)state;
	na = loss_run("seed = 42,", a);
	nb = loss_run("seed = 42,", b);
	nc = loss_run("seed = 43,", c);
	/* 10% of 10,000 within 5 binomial standard deviations (30). */
	assert_true(na >= 850 && na <= 1150);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, sizeof(a));
	assert_true(nc >= 850 && nc <= 1150);
	assert_true(memcmp(a, c, sizeof(a)) != 0);
	/* Without a seed two loads differ. */
	loss_run("", a);
	loss_run("", b);
	assert_true(memcmp(a, b, sizeof(a)) != 0);
}

static void test_gemodel_rule(void **state)
{
	struct vd_ruleset *rs = load(RULES(
		"seed = 1, rules = { { name = \"ge\", verdict = \"accept\","
		"  loss = { model = \"gemodel\", p = \"2%\", r = 0.25, h = 0, k = \"100%\" } } }"));
	struct vd_shape_report o;
	unsigned dropped = 0;

	(void)state;
	for (int i = 0; i < 100000; i++)
		dropped += eval(rs, udp(9, 9), &o).kind == VD_VERDICT_DROP;
	/* stationary 0.02 / 0.27 = 7.4% */
	assert_true(fabs(dropped / 100000.0 - 0.02 / 0.27) < 0.01);
	vd_ruleset_free(rs);
}

static void test_limit(void **state)
{
	struct vd_ruleset *rs = load(RULES(
		"rules = { { name = \"held\", verdict = \"accept\", delay = \"10s\", limit = 3 } }"));
	struct vd_shape_report o;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(eval(rs, udp(9, 9), &o).delay_us, 10000000);
		assert_int_equal(o.outcome, VD_SHAPE_DELAYED);
	}
	for (int i = 0; i < 5; i++) {
		assert_int_equal(eval(rs, udp(9, 9), &o).kind, VD_VERDICT_DROP);
		assert_int_equal(o.outcome, VD_SHAPE_LIMIT_DROPPED);
	}
	vd_ruleset_free(rs);
	/* Released packets no longer count: a 100 ms hold (long enough that a
	 * loaded machine does not release it between two calls), limit 1. */
	rs = load(RULES("rules = { { name = \"short\", verdict = \"accept\", delay = \"100ms\", "
			"limit = 1 } }"));
	assert_int_equal(eval(rs, udp(9, 9), &o).kind, VD_VERDICT_ACCEPT);
	assert_int_equal(eval(rs, udp(9, 9), &o).kind, VD_VERDICT_DROP);
	usleep(120000);
	assert_int_equal(eval(rs, udp(9, 9), &o).kind, VD_VERDICT_ACCEPT);
	vd_ruleset_free(rs);
}

static uint32_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)(ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* A bucket's wait: `full` microseconds less the time since the bucket was
 * last full, which the test measures rather than assumes (a loaded CI
 * machine may take milliseconds between two calls). */
static void assert_wait(uint32_t got, uint32_t full, uint32_t since, const char *what)
{
	uint32_t elapsed = now_us() - since;

	if (got > full || got + elapsed + 1 < full)
		fail_msg("%s: %u us, expected %u us less at most %u us elapsed", what, got, full,
			 elapsed);
}

/* 8kbit = 1000 bytes/s; the packets are 28 bytes (IPv4 + UDP). */
static void test_rate(void **state)
{
	struct vd_ruleset *rs = load(RULES(
		"rules = {"
		"{ name = \"one\", dport = 1, verdict = \"accept\", rate = \"8kbit\", burst = \"56b\" },"
		"{ name = \"flows\", dport = 2, verdict = \"accept\", rate = \"8kbit\", burst = \"28b\","
		"  per = \"flow\", delay = \"1ms\" } }"));
	struct vd_shape_report o;
	struct vd_verdict v;
	uint32_t t0;

	(void)state;
	assert_int_equal(udp(9, 1)->len, 28);
	t0 = now_us();
	assert_int_equal(eval(rs, udp(9, 1), &o).delay_us, 0);
	assert_int_equal(eval(rs, udp(9, 1), &o).delay_us, 0);
	v = eval(rs, udp(9, 1), &o);
	/* 28 ms for the third, less the time the test took since the first */
	assert_wait(v.delay_us, 28000, t0, "third packet");
	assert_int_equal(o.outcome, VD_SHAPE_DELAYED);
	v = eval(rs, udp(9, 1), &o);
	assert_wait(v.delay_us, 56000, t0, "fourth packet");
	/* Per flow: each source port has its own bucket of one packet;
	 * the delay is added to the bucket's wait. */
	t0 = now_us();
	for (uint16_t sport = 100; sport < 200; sport++)
		assert_int_equal(eval(rs, udp(sport, 2), &o).delay_us, 1000);
	v = eval(rs, udp(100, 2), &o);
	assert_wait(v.delay_us, 29000, t0, "per flow");
	/* Far more flows than buckets (VD_SHAPE_FLOWS): buckets are reused,
	 * and a new flow always finds a full one. */
	for (unsigned i = 0; i < 3 * VD_SHAPE_FLOWS; i++)
		assert_int_equal(eval(rs, udp((uint16_t)(1000 + i), 2), &o).delay_us, 1000);
	vd_ruleset_free(rs);
}

/* A hook rule: shaped after the hook's verdict; its drop is not shaped. */
static void test_after_hook(void **state)
{
	struct vd_ruleset *rs = load(RULES(
		"rules = { { name = \"h\", lua = function(p) if p.dport == 1 then return \"drop\" end "
		"return \"accept\" end, delay = \"5ms\" } }"));
	struct vd_shape_report o;
	struct vd_verdict v;

	(void)state;
	v = eval(rs, udp(9, 1), &o);
	assert_int_equal(v.kind, VD_VERDICT_DROP);
	assert_int_equal(v.delay_us, 0);
	assert_int_equal(o.outcome, VD_SHAPE_NOTHING);
	v = eval(rs, udp(9, 2), &o);
	assert_int_equal(v.kind, VD_VERDICT_ACCEPT);
	assert_int_equal(v.delay_us, 5000);
	vd_ruleset_free(rs);
}

/* Through vd_rules: the counters, the stats, vd_rules_delays. */
static void test_counters(void **state)
{
	struct vd_rules_config cfg = { .nworkers = 1 };
	struct vd_rule_stats st[4];
	char err[VD_ERRBUF_SIZE];
	struct vd_rules *r;

	(void)state;
	rcu_register_thread();
	cfg.path = vt_rules_write(RULES(
		"seed = 7, rules = {"
		"{ name = \"slow\", dport = 1, verdict = \"accept\", delay = \"1s\", limit = 2 },"
		"{ name = \"lossy\", dport = 2, verdict = \"accept\", loss = \"100%\" } }"));
	r = vd_rules_open(&cfg, err);
	if (!r)
		fail_msg("%s", err);
	assert_true(vd_rules_delays(r));
	for (int i = 0; i < 5; i++)
		vd_rules_eval(r, 0, udp(9, 1));
	for (int i = 0; i < 4; i++)
		vd_rules_eval(r, 0, udp(9, 2));
	assert_int_equal(vd_rules_stats(r, st, 4), 3);
	assert_int_equal(st[1].hits, 5);
	assert_int_equal(st[1].delayed, 2);
	assert_int_equal(st[1].limit_dropped, 3);
	assert_int_equal(st[1].loss_dropped, 0);
	assert_int_equal(st[1].held, 2);
	assert_int_equal(st[1].held_max, 2);
	assert_int_equal(st[1].released, 0);
	assert_int_equal(st[2].hits, 4);
	assert_int_equal(st[2].loss_dropped, 4);
	assert_int_equal(st[2].delayed, 0);
	assert_int_equal(st[2].held, 0);
	vd_rules_close(r);

	cfg.path = vt_rules_write(RULES("rules = { { verdict = \"accept\", loss = \"1%\" } }"));
	r = vd_rules_open(&cfg, err);
	if (!r)
		fail_msg("%s", err);
	assert_false(vd_rules_delays(r));
	vd_rules_close(r);
	rcu_unregister_thread();
}

/* held, held_max and released of rule 1 on a one-worker table, one line. */
static void held_is(struct vd_rules *r, uint64_t held, uint64_t held_max, uint64_t released,
		    uint64_t delayed)
{
	struct vd_rule_stats st[2];

	assert_int_equal(vd_rules_stats(r, st, 2), 2);
	if (st[1].held != held || st[1].held_max != held_max || st[1].released != released ||
	    st[1].delayed != delayed)
		fail_msg("held %lu held_max %lu released %lu delayed %lu, want %lu %lu %lu %lu",
			 (unsigned long)st[1].held, (unsigned long)st[1].held_max,
			 (unsigned long)st[1].released, (unsigned long)st[1].delayed,
			 (unsigned long)held, (unsigned long)held_max, (unsigned long)released,
			 (unsigned long)delayed);
}

/* Held now, held at most and released per rule: held from the verdict to
 * the release time, released after; across a reload while packets are held;
 * at most hold_max tracked per worker (the queue holds no more). */
static void test_held_released(void **state)
{
	const char *text = RULES("rules = { { name = \"d\", verdict = \"accept\", delay = \"300ms\" } }");
	struct vd_rules_config cfg = { .nworkers = 1 };
	char err[VD_ERRBUF_SIZE];
	struct vd_rules *r;

	(void)state;
	vd_rules_reader_register();
	cfg.path = vt_rules_write(text);
	r = vd_rules_open(&cfg, err);
	if (!r)
		fail_msg("%s", err);
	for (int i = 0; i < 5; i++)
		assert_int_equal(vd_rules_eval(r, 0, udp(9, 9)).delay_us, 300000);
	held_is(r, 5, 5, 0, 5);
	usleep(350000);
	/* Nobody evaluated since: the stats see the release times passed. */
	held_is(r, 0, 5, 5, 5);
	vd_rules_eval(r, 0, udp(9, 9));
	vd_rules_eval(r, 0, udp(9, 9));
	held_is(r, 2, 5, 5, 7);
	/* A reload while two are held: the new table's heap starts empty,
	 * the two still count as held until their time. */
	assert_int_equal(vd_rules_reload(r, err), 0);
	vd_rules_eval(r, 0, udp(9, 9));
	held_is(r, 3, 5, 5, 8);
	usleep(350000);
	held_is(r, 0, 5, 8, 8);
	/* The next packet's worker catches up with the old table's releases. */
	vd_rules_eval(r, 0, udp(9, 9));
	held_is(r, 1, 5, 8, 9);
	vd_rules_reader_quiescent();
	vd_rules_close(r);

	/* hold_max 3: the queue holds no more, the fourth pushes out the first. */
	cfg.hold_max = 3;
	cfg.path = vt_rules_write(RULES("rules = { { name = \"d\", verdict = \"accept\", "
					"delay = \"10s\" } }"));
	r = vd_rules_open(&cfg, err);
	if (!r)
		fail_msg("%s", err);
	for (int i = 0; i < 5; i++)
		vd_rules_eval(r, 0, udp(9, 9));
	held_is(r, 3, 3, 2, 5);
	vd_rules_reader_quiescent();
	vd_rules_close(r);
	vd_rules_reader_unregister();
}

/* A jittered delay's release times come out of order (the heap) between
 * runs in order (the ring): the held and released counts a packet reports
 * are exactly those of its own model of the release times. */
static void test_held_counts_with_jitter(void **state)
{
	enum { N = 3000 };
	struct vd_ruleset *rs = load(RULES(
		"seed = 7, rules = {"
		"{ name = \"jit\", dport = 1, verdict = \"accept\", delay = \"2ms\", jitter = \"1ms\" },"
		"{ name = \"fixed\", dport = 2, verdict = \"accept\", delay = \"2ms\" } }"));
	static uint64_t model[2][N];
	unsigned n[2] = { 0, 0 }, released[2] = { 0, 0 };
	struct vd_shape_report o;

	(void)state;
	for (unsigned i = 0; i < N; i++) {
		unsigned r = i % 3 == 0; /* a third on the fixed delay */
		unsigned kept = 0, gone = 0;

		eval(rs, udp(9, (uint16_t)(1 + r)), &o);
		assert_int_equal(o.outcome, VD_SHAPE_DELAYED);
		for (unsigned j = 0; j < n[r]; j++)
			if (model[r][j] <= o.now_ns)
				gone++;
			else
				model[r][kept++] = model[r][j];
		n[r] = kept;
		model[r][n[r]++] = o.release_ns;
		assert_int_equal(o.released, gone);
		assert_int_equal(o.held, n[r]);
		released[r] += gone;
		if (i % 50 == 0)
			usleep(500);
	}
	/* Both ran through many releases. */
	assert_true(released[0] > N / 3 && released[1] > N / 6);
	vd_ruleset_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delay_and_jitter),
		cmocka_unit_test(test_loss_seeded),
		cmocka_unit_test(test_gemodel_rule),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_after_hook),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_held_released),
		cmocka_unit_test(test_held_counts_with_jitter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
