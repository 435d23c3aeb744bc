/* test_hold.c - the ring and timer heap of held verdicts: release order,
 * ties in arrival order, many timers, everything at once at stop, the
 * bounds, the copies of rewritten packets, the release error percentiles,
 * and which ids are known to be below every held one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hold.h"

static const struct vd_wire_verdict accept_wire = { .code = 1 };

static void add(struct vd_hold *h, uint64_t at, uint32_t id)
{
	assert_int_equal(vd_hold_add(h, at, id, &accept_wire, NULL, 0), 0);
}

static uint32_t pop_id(struct vd_hold *h, uint64_t now)
{
	struct vd_hold_entry e;
	const uint8_t *payload;

	assert_true(vd_hold_pop(h, now, &e, &payload));
	assert_null(payload);
	return e.id;
}

static void test_releases_in_time_order_only_when_due(void **state)
{
	struct vd_hold h;
	struct vd_hold_entry e;
	const uint8_t *payload;
	uint64_t next;

	(void)state;
	assert_int_equal(vd_hold_init(&h, 8, 0, 0), 0);
	assert_false(vd_hold_next(&h, &next));
	add(&h, 300, 1);
	add(&h, 100, 2);
	add(&h, 200, 3);
	assert_true(vd_hold_next(&h, &next));
	assert_int_equal(next, 100);
	assert_false(vd_hold_pop(&h, 99, &e, &payload));
	assert_int_equal(pop_id(&h, 100), 2);
	assert_false(vd_hold_pop(&h, 150, &e, &payload));
	assert_int_equal(pop_id(&h, 1000), 3);
	assert_int_equal(pop_id(&h, 1000), 1);
	assert_false(vd_hold_pop(&h, UINT64_MAX, &e, &payload));
	assert_int_equal(h.released, 3);
	assert_int_equal(h.held_max, 3);
	vd_hold_free(&h);
}

static void test_ties_keep_arrival_order(void **state)
{
	struct vd_hold h;

	(void)state;
	assert_int_equal(vd_hold_init(&h, 64, 0, 0), 0);
	for (uint32_t id = 0; id < 50; id++)
		add(&h, id % 2 ? 500 : 400, id);
	for (uint32_t id = 0; id < 50; id += 2)
		assert_int_equal(pop_id(&h, 1000), id);
	for (uint32_t id = 1; id < 50; id += 2)
		assert_int_equal(pop_id(&h, 1000), id);
	vd_hold_free(&h);
}

/* libc's reentrant generator, fixed seed: failures reproduce. */
static uint32_t rnd(void)
{
	static unsigned seed = 88172645u;

	return (uint32_t)rand_r(&seed);
}

/* 100,000 timers at random times, interleaved with releases: always the
 * earliest first, never one early, the arrival order among equal times. */
static void test_many_timers(void **state)
{
	enum { N = 100000 };
	struct vd_hold h;
	struct vd_hold_entry e, last = { 0 };
	const uint8_t *payload;
	uint64_t now = 0, released = 0;
	static uint64_t at[N];

	(void)state;
	assert_int_equal(vd_hold_init(&h, N, 0, 0), 0);
	for (uint32_t id = 0; id < N; id++) {
		at[id] = now + rnd() % 5000;
		add(&h, at[id], id);
		if (id % 7 == 0) {
			now += 300;
			while (vd_hold_pop(&h, now, &e, &payload)) {
				assert_true(at[e.id] <= now);
				assert_int_equal(e.release_ns, at[e.id]);
				/* New timers are never before now: order holds across drains. */
				assert_true(released == 0 || e.release_ns > last.release_ns ||
					    (e.release_ns == last.release_ns && e.seq > last.seq));
				last = e;
				released++;
			}
		}
	}
	/* The rest, strictly in (time, arrival) order. */
	while (vd_hold_pop(&h, UINT64_MAX, &e, &payload)) {
		assert_true(e.release_ns > last.release_ns ||
			    (e.release_ns == last.release_ns && e.seq > last.seq));
		last = e;
		released++;
	}
	assert_int_equal(released, N);
	assert_int_equal(h.count, 0);
	vd_hold_free(&h);
}

/* Stop: every hold at once, however far its time. */
static void test_drain_releases_everything(void **state)
{
	struct vd_hold h;
	unsigned n = 0;
	struct vd_hold_entry e;
	const uint8_t *payload;

	(void)state;
	assert_int_equal(vd_hold_init(&h, 1000, 0, 0), 0);
	for (uint32_t id = 0; id < 1000; id++)
		add(&h, 3600ull * 1000000000u + id, id);
	while (vd_hold_pop(&h, UINT64_MAX, &e, &payload))
		assert_int_equal(e.id, n++);
	assert_int_equal(n, 1000);
	vd_hold_free(&h);
}

static void test_full_heap_and_pool_refuse(void **state)
{
	struct vd_hold h;
	uint8_t pkt[100], big[300];
	struct vd_hold_entry e;
	const uint8_t *payload;

	(void)state;
	memset(pkt, 0xab, sizeof(pkt));
	assert_int_equal(vd_hold_init(&h, 3, 1, 200), 0);
	assert_int_equal(vd_hold_add(&h, 10, 1, &accept_wire, pkt, sizeof(pkt)), 0);
	errno = 0;
	assert_int_equal(vd_hold_add(&h, 10, 2, &accept_wire, pkt, sizeof(pkt)), -1);
	assert_int_equal(errno, ENOSPC); /* the one copy is taken */
	assert_int_equal(vd_hold_add(&h, 10, 3, &accept_wire, big, sizeof(big)), -1);
	assert_int_equal(errno, EMSGSIZE);
	add(&h, 5, 4);
	add(&h, 6, 5);
	assert_int_equal(vd_hold_add(&h, 1, 6, &accept_wire, NULL, 0), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(pop_id(&h, 100), 4);
	assert_int_equal(pop_id(&h, 100), 5);
	memset(pkt, 0, sizeof(pkt));
	assert_true(vd_hold_pop(&h, 100, &e, &payload));
	assert_int_equal(e.id, 1);
	assert_int_equal(e.copy_len, 100);
	assert_non_null(payload);
	assert_int_equal(payload[0], 0xab);
	assert_int_equal(payload[99], 0xab);
	/* Back in the pool only once sent. */
	assert_int_equal(vd_hold_add(&h, 10, 7, &accept_wire, pkt, sizeof(pkt)), -1);
	vd_hold_recycle(&h);
	assert_int_equal(vd_hold_add(&h, 10, 7, &accept_wire, pkt, sizeof(pkt)), 0);
	vd_hold_free(&h);
}

static void test_percentiles(void **state)
{
	struct vd_hold h;
	uint64_t p50, p99;

	(void)state;
	assert_int_equal(vd_hold_init(&h, 1, 0, 0), 0);
	assert_int_equal(vd_hold_percentile(&h, 500), 0);
	/* 1..1000 us: p50 500 us, p99 990 us, within a bucket (12.5%). */
	for (uint64_t us = 1; us <= 1000; us++)
		vd_hold_record(&h, us * 1000);
	p50 = vd_hold_percentile(&h, 500);
	p99 = vd_hold_percentile(&h, 990);
	assert_true(p50 >= 500000 && p50 <= 562500);
	assert_true(p99 >= 990000 && p99 <= 1000000);
	assert_int_equal(vd_hold_percentile(&h, 1000), 1000000);
	assert_int_equal(h.error_max_ns, 1000000);
	/* Small values are exact. */
	vd_hold_free(&h);
	assert_int_equal(vd_hold_init(&h, 1, 0, 0), 0);
	for (int i = 0; i < 10; i++)
		vd_hold_record(&h, 7);
	vd_hold_record(&h, 123456789);
	assert_int_equal(vd_hold_percentile(&h, 500), 7);
	assert_int_equal(vd_hold_percentile(&h, 900), 7);
	assert_int_equal(vd_hold_percentile(&h, 1000), 123456789);
	vd_hold_free(&h);
}

/* A constant delay: every hold goes to the ring, which grows past its first
 * size and wraps, and pops in order; the lowest held id is always known. */
static void test_constant_delay_uses_the_ring(void **state)
{
	enum { N = 5000 };
	struct vd_hold h;
	uint32_t next_out = 0;

	(void)state;
	assert_int_equal(vd_hold_init(&h, 1000, 0, 0), 0);
	for (uint32_t id = 0; id < N; id++) {
		add(&h, 1000 + (uint64_t)id * 10, id);
		assert_int_equal(h.nheap, 0);
		/* Held: from 300 to 1000 at once, then down to 200, and again. */
		if (h.count >= (id / 1000 % 2 ? 1000u : 300u))
			while (h.count > 200) {
				assert_false(vd_hold_all_above(&h, next_out));
				assert_int_equal(pop_id(&h, UINT64_MAX), next_out);
				/* What was just released is below every held id. */
				assert_true(vd_hold_all_above(&h, next_out++));
				assert_false(vd_hold_all_above(&h, next_out));
			}
	}
	assert_true(h.fifo_mask + 1 >= 1000 && h.fifo_mask + 1 <= 2048);
	while (h.count > 0)
		assert_int_equal(pop_id(&h, UINT64_MAX), next_out++);
	assert_int_equal(next_out, N);
	assert_true(vd_hold_all_above(&h, 12345)); /* nothing held */
	/* Empty, the ring starts over at its front. */
	assert_int_equal(h.fifo_head, 0);
	vd_hold_free(&h);
}

/* Out of order (an earlier release time, or a lower id: a pending packet
 * answered late) goes to the heap; the lowest id is then not known. */
static void test_out_of_order_goes_to_the_heap(void **state)
{
	struct vd_hold h;

	(void)state;
	assert_int_equal(vd_hold_init(&h, 8, 0, 0), 0);
	add(&h, 100, 10);
	add(&h, 200, 11);
	assert_int_equal(h.nheap, 0);
	assert_true(vd_hold_all_above(&h, 9));
	assert_false(vd_hold_all_above(&h, 10));
	add(&h, 300, 5);  /* later, but a lower id */
	assert_int_equal(h.nheap, 1);
	assert_false(vd_hold_all_above(&h, 1));
	add(&h, 150, 12); /* a higher id, but earlier */
	assert_int_equal(h.nheap, 2);
	add(&h, 250, 13); /* after the ring's tail again */
	assert_int_equal(h.nheap, 2);
	assert_int_equal(pop_id(&h, 1000), 10);
	assert_int_equal(pop_id(&h, 1000), 12);
	assert_int_equal(pop_id(&h, 1000), 11);
	assert_int_equal(pop_id(&h, 1000), 13);
	assert_false(vd_hold_all_above(&h, 4));
	assert_int_equal(pop_id(&h, 1000), 5);
	assert_true(vd_hold_all_above(&h, 0));
	vd_hold_free(&h);
}

/* Ids wrap around 2^32 as the kernel's do: still in order for the ring. */
static void test_ids_wrap_around(void **state)
{
	struct vd_hold h;

	(void)state;
	assert_int_equal(vd_hold_init(&h, 8, 0, 0), 0);
	add(&h, 100, UINT32_MAX - 1);
	add(&h, 100, UINT32_MAX);
	add(&h, 100, 0);
	add(&h, 100, 1);
	assert_int_equal(h.nheap, 0);
	assert_true(vd_hold_all_above(&h, UINT32_MAX - 2));
	assert_false(vd_hold_all_above(&h, UINT32_MAX - 1));
	assert_int_equal(pop_id(&h, 100), UINT32_MAX - 1);
	assert_int_equal(pop_id(&h, 100), UINT32_MAX);
	assert_true(vd_hold_all_above(&h, UINT32_MAX));
	assert_false(vd_hold_all_above(&h, 0));
	assert_int_equal(pop_id(&h, 100), 0);
	assert_int_equal(pop_id(&h, 100), 1);
	vd_hold_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_releases_in_time_order_only_when_due),
		cmocka_unit_test(test_ties_keep_arrival_order),
		cmocka_unit_test(test_many_timers),
		cmocka_unit_test(test_drain_releases_everything),
		cmocka_unit_test(test_full_heap_and_pool_refuse),
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_constant_delay_uses_the_ring),
		cmocka_unit_test(test_out_of_order_goes_to_the_heap),
		cmocka_unit_test(test_ids_wrap_around),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
