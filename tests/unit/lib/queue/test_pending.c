/* test_pending.c - packets answered later: the id set (add, remove in any
 * order, bounded) and the mailbox other threads answer through (every answer
 * arrives once, full and closed refuse, the eventfd wakes). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "pending.h"

/* libc's reentrant generator, fixed seed: failures reproduce. */
static uint32_t rnd(void)
{
	static unsigned seed = 123456789u;

	return (uint32_t)rand_r(&seed);
}

/* Random adds and removes against a plain array: the set finds exactly the
 * ids it holds, with their marks, through every backward shift. */
static void test_set_matches_a_reference(void **state)
{
	enum { MAX = 500, IDS = 4000 };
	static bool in[IDS];
	struct vd_pending p;
	uint32_t mark, count = 0, id = 0;

	(void)state;
	assert_int_equal(vd_pending_init(&p, MAX), 0);
	for (int step = 0; step < 200000; step++) {
		uint32_t r = rnd(), i = r % IDS;

		if ((r >> 16) % 2 && count < MAX && !in[i]) {
			assert_int_equal(vd_pending_add(&p, i, i * 3), 0);
			in[i] = true;
			count++;
		} else {
			bool found = vd_pending_remove(&p, i, &mark);

			assert_int_equal(found, in[i]);
			if (found) {
				assert_int_equal(mark, i * 3);
				in[i] = false;
				count--;
			}
		}
		assert_int_equal(p.count, count);
	}
	/* Full refuses; draining gives each held id once. */
	while (p.count < MAX) {
		for (id = 0; in[id]; id++)
			;
		assert_int_equal(vd_pending_add(&p, id, id * 3), 0);
		in[id] = true;
	}
	assert_int_equal(vd_pending_add(&p, IDS + 1, 0), -1);
	assert_int_equal(errno, ENOSPC);
	while (vd_pending_any(&p, &id, &mark)) {
		assert_true(in[id]);
		assert_int_equal(mark, id * 3);
		in[id] = false;
	}
	for (id = 0; id < IDS; id++)
		assert_false(in[id]);
	vd_pending_free(&p);
}

struct poster {
	struct vd_pending *p;
	uint32_t first, n;
};

static void *post_all(void *arg)
{
	struct poster *ps = arg;

	for (uint32_t i = 0; i < ps->n; i++) {
		struct vd_verdict v = vd_verdict_delay(vd_verdict_accept(), i);

		while (vd_pending_post(ps->p, ps->first + i, v) < 0)
			assert_int_equal(errno, EAGAIN); /* full: the taker catches up */
	}
	return NULL;
}

/* Four threads answer 20,000 packets through a 256-answer mailbox while
 * this thread takes them: each arrives exactly once with its verdict. */
static void test_answers_from_other_threads_arrive_once(void **state)
{
	enum { THREADS = 4, PER = 5000 };
	static uint8_t seen[THREADS * PER];
	struct vd_pending p;
	struct poster ps[THREADS];
	pthread_t t[THREADS];
	struct vd_pending_answer got[64];
	unsigned total = 0;

	(void)state;
	assert_int_equal(vd_pending_init(&p, 256), 0);
	for (int i = 0; i < THREADS; i++) {
		ps[i] = (struct poster){ &p, (uint32_t)i * PER, PER };
		assert_int_equal(pthread_create(&t[i], NULL, post_all, &ps[i]), 0);
	}
	while (total < THREADS * PER) {
		struct pollfd pfd = { .fd = p.wake_fd, .events = POLLIN };
		unsigned n;
		uint64_t count;

		assert_true(poll(&pfd, 1, 5000) == 1); /* woken, never stuck */
		assert_int_equal(read(p.wake_fd, &count, sizeof(count)), sizeof(count));
		while ((n = vd_pending_take(&p, got, 64)) > 0) {
			for (unsigned i = 0; i < n; i++) {
				assert_true(got[i].id < THREADS * PER);
				assert_int_equal(seen[got[i].id]++, 0);
				assert_int_equal(got[i].v.kind, VD_VERDICT_ACCEPT);
				assert_int_equal(got[i].v.delay_us,
						 (got[i].id % PER + 999) / 1000);
			}
			total += n;
		}
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(total, THREADS * PER);
	vd_pending_free(&p);
}

static void test_full_and_closed_refuse(void **state)
{
	struct vd_pending p;
	struct vd_pending_answer got[4];

	(void)state;
	assert_int_equal(vd_pending_init(&p, 2), 0);
	assert_int_equal(vd_pending_post(&p, 1, vd_verdict_accept()), 0);
	assert_int_equal(vd_pending_post(&p, 2, vd_verdict_drop()), 0);
	assert_int_equal(vd_pending_post(&p, 3, vd_verdict_drop()), -1);
	assert_int_equal(errno, EAGAIN);
	vd_pending_close(&p);
	assert_int_equal(vd_pending_post(&p, 4, vd_verdict_drop()), -1);
	assert_int_equal(errno, ESHUTDOWN);
	/* What came before the close is still taken. */
	assert_int_equal(vd_pending_take(&p, got, 4), 2);
	assert_int_equal(got[0].id, 1);
	assert_int_equal(got[1].id, 2);
	assert_int_equal(got[1].v.kind, VD_VERDICT_DROP);
	vd_pending_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_matches_a_reference),
		cmocka_unit_test(test_answers_from_other_threads_arrive_once),
		cmocka_unit_test(test_full_and_closed_refuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
