/*
 * test_queue_tuning.c - queue_tuning.c's decisions: the default kernel
 * queue length from the receive buffer, the batch and delays; when drops
 * raise the alarm (once) and a growth step (every time they move); the
 * fail-open estimate from packet ids, never above the truth.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "queue_tuning.h"

static void test_default_maxlen(void **state)
{
	(void)state;
	/* 8 MiB of 1 KiB packets, the defaults: 8192. */
	assert_int_equal(vd_tuning_default_maxlen(8u << 20, 64, false, 65536), 8192);
	/* A small buffer: at least 16 batches. */
	assert_int_equal(vd_tuning_default_maxlen(64u << 10, 64, false, 65536), 1024);
	assert_int_equal(vd_tuning_default_maxlen(64u << 10, 1024, false, 65536), 16384);
	/* Rules that delay: room for every held packet and 1024 more. */
	assert_int_equal(vd_tuning_default_maxlen(8u << 20, 64, true, 65536), 66560);
	assert_int_equal(vd_tuning_default_maxlen(8u << 20, 64, true, 100), 8192);
	/* The largest buffer the options take (1G): a million. */
	assert_int_equal(vd_tuning_default_maxlen(1u << 30, 64, false, 1), 1u << 20);
}

static const struct vd_kernel_queue_stats quiet = { .id_sequence = 100 };

static void test_alarm_once_grow_each_time(void **state)
{
	struct vd_kernel_watch w = { 0 };
	struct vd_kernel_queue_stats k = quiet;
	struct vd_queue_stats s = { .packets = 100 };

	(void)state;
	assert_int_equal(vd_kernel_watch_update(&w, &k, &s, false), 0);
	k.queue_dropped = 3;
	assert_int_equal(vd_kernel_watch_update(&w, &k, &s, false),
			 VD_WATCH_ALARM | VD_WATCH_GROW);
	assert_int_equal(w.queue_dropped, 3);
	/* Not moved since: nothing. */
	assert_int_equal(vd_kernel_watch_update(&w, &k, &s, false), 0);
	/* User drops move: grow again, no second alarm. */
	k.user_dropped = 9;
	assert_int_equal(vd_kernel_watch_update(&w, &k, &s, false), VD_WATCH_GROW);
	assert_int_equal(w.user_dropped, 9);
	assert_int_equal(w.fail_open, 0); /* not counted without fail-open */
}

static void test_fail_open_from_id_gaps(void **state)
{
	struct vd_kernel_watch w = { 0 };
	/* 150 ids: 100 judged, 10 waiting in the queue, 40 never arrived. */
	struct vd_kernel_queue_stats k = { .id_sequence = 150, .queue_total = 10 };
	struct vd_queue_stats s = { .packets = 100 };

	(void)state;
	/* The first read alone is not trusted (it may count a batch too many). */
	assert_int_equal(vd_kernel_watch_update(&w, &k, &s, true), 0);
	assert_int_equal(w.fail_open, 0);
	assert_int_equal(vd_kernel_watch_update(&w, &k, &s, true),
			 VD_WATCH_ALARM | VD_WATCH_GROW);
	assert_int_equal(w.fail_open, 40);
	/* A read whose counters lag a batch behind the kernel (64 verdicts the
	 * kernel took, not yet published): the earlier, smaller count holds. */
	k.id_sequence = 214;
	assert_int_equal(vd_kernel_watch_update(&w, &k, &s, true), 0);
	assert_int_equal(w.fail_open, 40);
	s.packets = 164;
	assert_int_equal(vd_kernel_watch_update(&w, &k, &s, true), 0);
	assert_int_equal(w.fail_open, 40);
	/* Held and pending packets are not judged yet; user drops took ids. */
	k.id_sequence = 300;
	k.user_dropped = 6;
	k.queue_total = 20;
	s.packets = 250;
	s.held = 4;
	s.pending = 1;
	/* 300 - 6 - 20 - (250 - 5) = 29: below 40, nothing new. */
	assert_int_equal(vd_kernel_watch_update(&w, &k, &s, true), VD_WATCH_GROW);
	assert_int_equal(w.fail_open, 40);
	/* Packets still in the socket count in queue_total, not as a gap. */
	k = (struct vd_kernel_queue_stats){ .id_sequence = 1000, .queue_total = 760 };
	s = (struct vd_queue_stats){ .packets = 200 };
	w = (struct vd_kernel_watch){ 0 };
	vd_kernel_watch_update(&w, &k, &s, true);
	assert_int_equal(vd_kernel_watch_update(&w, &k, &s, true), VD_WATCH_ALARM | VD_WATCH_GROW);
	assert_int_equal(w.fail_open, 40);
	k.queue_total = 800;
	w = (struct vd_kernel_watch){ 0 };
	vd_kernel_watch_update(&w, &k, &s, true);
	assert_int_equal(vd_kernel_watch_update(&w, &k, &s, true), 0);
	assert_int_equal(w.fail_open, 0);
}

static void test_fail_open_across_the_id_wrap(void **state)
{
	struct vd_kernel_watch w = { 0 };
	/* The kernel's 32-bit id wrapped; the queue's 64-bit count did not. */
	struct vd_kernel_queue_stats k = { .id_sequence = 5 };
	struct vd_queue_stats s = { .packets = (1ull << 32) - 2 };

	(void)state;
	vd_kernel_watch_update(&w, &k, &s, true);
	vd_kernel_watch_update(&w, &k, &s, true);
	assert_int_equal(w.fail_open, 7);
	/* More judged than ids (a read between receive and publish): no count. */
	w = (struct vd_kernel_watch){ 0 };
	k.id_sequence = 100;
	s.packets = 120;
	vd_kernel_watch_update(&w, &k, &s, true);
	assert_int_equal(vd_kernel_watch_update(&w, &k, &s, true), 0);
	assert_int_equal(w.fail_open, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_maxlen),
		cmocka_unit_test(test_alarm_once_grow_each_time),
		cmocka_unit_test(test_fail_open_from_id_gaps),
		cmocka_unit_test(test_fail_open_across_the_id_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
