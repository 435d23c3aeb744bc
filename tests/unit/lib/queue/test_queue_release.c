/*
 * test_queue_release.c - held verdicts released into the batch
 * (vd_queue_answer_release), against a model of the kernel's queue: a batch
 * verdict "up to id X" applies to every packet still queued at or below X,
 * so it may only ever reach packets whose release is due, with their own
 * verdict. Turn by turn, packets are answered at once, held for a constant
 * delay (the ring), for a random one (the heap), or left pending and
 * answered late, as the queue's thread does; every datagram is applied as
 * the kernel would.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "helpers.h"
#include "queue_answer.h"
#include "verdict_wire.h"

#define N 4000      /* packet ids 1..N-1 */
#define MAXP 32     /* verdicts per batch: releases often fill it */
#define NEVER UINT64_MAX

struct model {
	struct vd_queue_config cfg;
	struct vd_queue_stats delta;
	struct vd_verdict_batch vb;
	struct vd_queue_answer answer;
	struct vd_hold hold;
	struct vd_pending pending;
	uint8_t vb_buf[8192] __attribute__((aligned(8)));
	struct vt_wire *wire;
	uint64_t now;
	/* Per id: fed to the queue, when its verdict may go (NEVER while
	 * pending), the verdict it was given, the one the kernel applied. */
	bool queued[N];
	uint64_t due[N];
	uint32_t want[N];
	int64_t got[N];
	unsigned msgs, batch_msgs, released;
};

static uint32_t rnd(void)
{
	static unsigned seed = 20261205u;

	return (uint32_t)rand_r(&seed);
}

/* The kernel: messages in order; a batch verdict takes every queued id at
 * or below its own, a plain one its id only. Each must be due. */
static void take(struct model *m, uint32_t id, uint32_t code)
{
	assert_true(m->queued[id]);
	assert_true(m->due[id] <= m->now); /* never before its release */
	assert_int_equal(code, m->want[id]);
	m->queued[id] = false;
	m->got[id] = code;
}

static void apply(struct model *m)
{
	vt_wire_read(&m->vb, m->wire);
	for (int i = 0; i < m->wire->n; i++) {
		const struct vt_verdict_msg *v = &m->wire->msgs[i].v;

		assert_true(v->id < N);
		m->msgs++;
		if (v->type == NFQNL_MSG_VERDICT_BATCH) {
			m->batch_msgs++;
			for (uint32_t j = 1; j <= v->id; j++)
				if (m->queued[j])
					take(m, j, v->code);
		} else {
			take(m, v->id, v->code);
		}
	}
	vd_verdict_batch_reset(&m->vb);
}

static void flush(void *owner)
{
	apply(owner);
}

static struct vd_wire_verdict wire_of(uint32_t code)
{
	return (struct vd_wire_verdict){ .code = code };
}

/* As queue_answer's hold(): folding off while anything is held. */
static void hold(struct model *m, uint32_t id, uint64_t at)
{
	struct vd_wire_verdict w = wire_of(m->want[id]);

	assert_int_equal(vd_hold_add(&m->hold, at, id, &w, NULL, 0), 0);
	vd_verdict_batch_set_fold(&m->vb, false);
	m->due[id] = at;
}

static void at_once(struct model *m, uint32_t id)
{
	struct vd_wire_verdict w = wire_of(m->want[id]);

	m->due[id] = m->now;
	if (vd_verdict_batch_add(&m->vb, id, &w) < 0) {
		apply(m);
		assert_int_equal(vd_verdict_batch_add(&m->vb, id, &w), 0);
	}
}

/* A late answer for a pending id: at once, or held (after later ids: the
 * heap). */
static void answer_pending(struct model *m, uint32_t id, bool delayed)
{
	uint32_t mark;

	assert_true(vd_pending_remove(&m->pending, id, &mark));
	if (delayed)
		hold(m, id, m->now + 50 + rnd() % 500);
	else
		at_once(m, id);
}

/* One turn of the queue's thread: a receive batch, then (holds_service)
 * the pending answers, the releases, one send, folding back on when
 * nothing waits. mix: percent of packets not on the constant delay. */
static void turn(struct model *m, uint32_t *next_id, unsigned mix)
{
	unsigned k = rnd() % 6;

	for (unsigned i = 0; i < k && *next_id < N; i++) {
		uint32_t id = (*next_id)++, r = rnd() % 100;

		m->queued[id] = true;
		m->want[id] = rnd() % 4 ? NF_ACCEPT : NF_DROP;
		if (r >= mix)
			hold(m, id, m->now + 1000);
		else if (r < mix / 3)
			at_once(m, id);
		else if (r < 2 * mix / 3)
			hold(m, id, m->now + rnd() % 2000);
		else if (vd_pending_add(&m->pending, id, 0) < 0)
			at_once(m, id); /* full */
		else {
			vd_verdict_batch_set_fold(&m->vb, false);
			m->due[id] = NEVER;
		}
	}
	apply(m); /* batch_end's send */
	for (uint32_t id = 1; id < *next_id; id++)
		if (m->due[id] == NEVER && rnd() % 8 == 0)
			answer_pending(m, id, rnd() % 2);
	vd_queue_answer_release(&m->answer, m->now);
	apply(m);
	if (m->hold.count == 0 && m->pending.count == 0)
		vd_verdict_batch_set_fold(&m->vb, true);
	m->now += 20 + rnd() % 100;
}

static struct model *model_new(void)
{
	struct model *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->wire = malloc(sizeof(*m->wire));
	assert_non_null(m->wire);
	m->cfg = (struct vd_queue_config){ .queue_num = 4 };
	assert_true(vd_verdict_batch_bufsize(MAXP) <= sizeof(m->vb_buf));
	assert_int_equal(vd_verdict_batch_init(&m->vb, 4, m->vb_buf, MAXP), 0);
	assert_int_equal(vd_hold_init(&m->hold, N, 0, 0), 0);
	assert_int_equal(vd_pending_init(&m->pending, 64), 0);
	m->answer = (struct vd_queue_answer){ .cfg = &m->cfg, .vb = &m->vb, .delta = &m->delta,
					      .flush = flush, .owner = m, .hold = &m->hold,
					      .pending = &m->pending };
	for (uint32_t id = 0; id < N; id++)
		m->got[id] = -1;
	m->now = 1000000;
	return m;
}

/* Runs the turns, then stop: the pending answered, every hold at once.
 * Every packet ends with exactly its own verdict. */
static void run(struct model *m, unsigned mix)
{
	uint32_t next_id = 1, mark, id;

	while (next_id < N)
		turn(m, &next_id, mix);
	while (vd_pending_any(&m->pending, &id, &mark))
		at_once(m, id);
	m->now = NEVER;
	vd_queue_answer_release(&m->answer, NEVER);
	apply(m);
	for (id = 1; id < N; id++)
		assert_int_equal(m->got[id], m->want[id]);
	assert_int_equal(m->hold.count, 0);
	m->released = (unsigned)m->hold.released;
}

static void model_free(struct model *m)
{
	vd_verdict_batch_free(&m->vb);
	vd_hold_free(&m->hold);
	vd_pending_free(&m->pending);
	free(m->wire);
	free(m);
}

/* Everything on one constant delay: each wakeup's releases fold into batch
 * verdicts (split only where accept and drop alternate). */
static void test_constant_delay_folds_releases(void **state)
{
	struct model *m = model_new();

	(void)state;
	run(m, 0);
	assert_int_equal(m->released, N - 1);
	assert_true(m->batch_msgs > 100);
	/* Alone, every release was a message: now far fewer. */
	assert_true(m->msgs < m->released * 3 / 4);
	model_free(m);
}

/* Jitter, late answers and immediate verdicts mixed in: no batch verdict
 * ever reaches a packet still held or pending. */
static void test_mixed_releases_never_cover_a_waiting_id(void **state)
{
	for (unsigned mix = 10; mix <= 90; mix += 40) {
		struct model *m = model_new();

		(void)state;
		run(m, mix);
		model_free(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constant_delay_folds_releases),
		cmocka_unit_test(test_mixed_releases_never_cover_a_waiting_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
