/*
 * test_queue_answer_edit.c - with an edit callback, a packet rewritten in its
 * receive slot goes back in a verdict of its own (accept, repeat, queue),
 * never a dropped or discarded one, and what cannot be sent goes out
 * unchanged; held packets are never covered by a batch verdict, and kernel
 * verdicts (bypass, reject) are never rewritten or held.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "queue_answer_fixture.h"

/* accept accept REWRITE accept accept: the rewritten packet goes back in a
 * verdict of its own, read from its receive slot, between the runs. */
static void test_edited_packet_goes_back_in_its_own_verdict(void **state)
{
	struct fixture *f = *state;
	const struct iovec *iov;
	unsigned niov;

	use_edit_cb(f);
	f->plan[3] = PLAN_TTL;
	for (uint32_t id = 1; id <= 5; id++)
		feed(f, id, 0);
	vd_verdict_batch_finish(&f->vb, &iov, &niov);
	assert_int_equal(niov, 3);
	assert_ptr_equal(iov[1].iov_base, f->slots[2] + packet_offset()); /* not copied */
	apply(f);
	assert_int_equal(f->wire->n, 3);
	assert_int_equal(f->wire->msgs[0].v.type, NFQNL_MSG_VERDICT_BATCH);
	assert_int_equal(f->wire->msgs[0].v.id, 2);
	assert_int_equal(f->wire->msgs[1].v.type, NFQNL_MSG_VERDICT);
	assert_int_equal(f->wire->msgs[1].v.id, 3);
	assert_int_equal(f->wire->msgs[2].v.id, 5);
	for (uint32_t id = 1; id <= 5; id++) {
		assert_int_equal(f->verdict_of[id], NF_ACCEPT);
		assert_int_equal(f->payload_len_of[id], id == 3 ? sizeof(udp4) : 0);
	}
	assert_int_equal(f->payload_of[3][8], 7);
	assert_packet_valid(f->payload_of[3], sizeof(udp4));
	assert_int_equal(f->delta.rewritten, 1);
	assert_int_equal(f->delta.rewrite_refused, 0);
	assert_int_equal(f->delta.accepted, 5);
}

/* Edits of a dropped packet, and discarded edits, are not sent. */
static void test_dropped_or_discarded_edits_are_not_sent(void **state)
{
	struct fixture *f = *state;

	use_edit_cb(f);
	f->plan[1] = PLAN_TTL_DROP;
	f->plan[2] = PLAN_TTL_DISCARD;
	f->plan[3] = PLAN_NONE;
	for (uint32_t id = 1; id <= 3; id++)
		feed(f, id, 0);
	apply(f);
	assert_int_equal(f->verdict_of[1], NF_DROP);
	assert_int_equal(f->verdict_of[2], NF_ACCEPT);
	assert_int_equal(f->verdict_of[3], NF_ACCEPT);
	for (uint32_t id = 1; id <= 3; id++)
		assert_int_equal(f->payload_len_of[id], 0);
	/* accept, accept folds again: no message of its own was needed */
	assert_int_equal(f->wire->n, 2);
	assert_int_equal(f->delta.rewritten, 0);
	assert_int_equal(f->delta.rewrite_refused, 0);
	assert_int_equal(f->delta.dropped, 1);
}

/* The edit is over the packet where it lies, its view the queue's own,
 * with the rest of the slot as room, at most what one attribute carries. */
static void test_edit_capacity_is_the_rest_of_the_slot(void **state)
{
	struct fixture *f = *state;
	size_t big_room = 100000;
	uint8_t *big = malloc(big_room);
	size_t len;

	assert_non_null(big);
	use_edit_cb(f);
	feed(f, 1, 0);
	assert_ptr_equal(f->seen_edit, &f->answer.edit);
	assert_ptr_equal(f->seen_edit->pkt, &f->answer.pkt);
	assert_ptr_equal(f->seen_buf, f->slots[0] + packet_offset());
	assert_ptr_equal(f->answer.pkt.data, f->seen_buf);
	assert_int_equal(f->seen_capacity, ROOM - packet_offset());
	len = put_packet(big, 2, true);
	vd_queue_answer_datagram(&f->answer, big, len, big_room, false);
	assert_int_equal(f->seen_capacity, VD_VERDICT_PAYLOAD_MAX);
	apply(f);
	free(big);
	assert_int_equal(f->verdict_of[2], NF_ACCEPT);
}

/* A packet that grows takes the slot's room after it. */
static void test_grown_packet_uses_the_room_after_it(void **state)
{
	struct fixture *f = *state;

	use_edit_cb(f);
	f->plan[1] = PLAN_GROW;
	feed(f, 1, 0);
	apply(f);
	assert_int_equal(f->verdict_of[1], NF_REPEAT);
	assert_int_equal(f->payload_len_of[1], sizeof(udp4) + 16);
	assert_memory_equal(f->payload_of[1] + 28, "abcd0123456789abcdef", 20);
	assert_packet_valid(f->payload_of[1], sizeof(udp4) + 16);
	assert_int_equal(f->delta.rewritten, 1);
}

/* A verdict that cannot be sent even alone (here: over the socket's send
 * limit) goes out without the packet, counted, never dropped. */
static void test_rewrite_over_the_send_limit_goes_out_unchanged(void **state)
{
	struct fixture *f = *state;

	use_edit_cb(f);
	vd_verdict_batch_set_send_limit(&f->vb, 128);
	f->plan[1] = PLAN_GROW_BIG; /* 128 bytes: 164 with its message */
	f->plan[2] = PLAN_GROW;     /* 48 bytes: fits */
	feed(f, 1, 0);
	feed(f, 2, 0);
	apply(f);
	assert_int_equal(f->verdict_of[1], NF_REPEAT);
	assert_int_equal(f->payload_len_of[1], 0);
	assert_int_equal(f->verdict_of[2], NF_REPEAT);
	assert_int_equal(f->payload_len_of[2], sizeof(udp4) + 16);
	assert_int_equal(f->delta.rewrite_refused, 1);
	assert_int_equal(f->delta.rewritten, 1);
}

/* More packets than a batch holds, rewritten ones among them: the full
 * batch is sent between packets, and each id ends with its own verdict. */
static void test_many_rewrites_across_full_batches(void **state)
{
	struct fixture *f = *state;
	static const enum plan cycle[] = { PLAN_NONE, PLAN_TTL, PLAN_TTL, PLAN_TTL_DROP,
					   PLAN_NONE, PLAN_GROW, PLAN_TTL_DISCARD };
	const uint32_t n = 48;

	use_edit_cb(f);
	for (uint32_t id = 0; id < n; id++)
		f->plan[id] = cycle[id % 7];
	for (uint32_t id = 0; id < n; id++)
		feed(f, id, 0);
	apply(f);
	assert_true(f->flushes >= 2);
	for (uint32_t id = 0; id < n; id++) {
		enum plan p = f->plan[id];
		bool sent = p == PLAN_TTL || p == PLAN_GROW;

		assert_int_equal(f->verdict_of[id], p == PLAN_TTL_DROP ? NF_DROP
					    : p == PLAN_GROW ? NF_REPEAT : NF_ACCEPT);
		assert_int_equal(f->payload_len_of[id] != 0, sent);
		if (sent)
			assert_packet_valid(f->payload_of[id], f->payload_len_of[id]);
	}
	assert_int_equal(f->delta.packets, n);
}

/* Ids 3 and 5 wait 1 ms, 7 is answered later, the rest go at once. */
static struct vd_verdict hold_cb(const struct vd_packet *pkt, void *user)
{
	(void)user;
	if (pkt->id == 3 || pkt->id == 5)
		return vd_verdict_delay(vd_verdict_accept(), 1000000);
	return pkt->id == 7 ? vd_verdict_pending() : vd_verdict_accept();
}

/* Held and pending ids are answered later, each by a verdict of its own: no
 * batch verdict of their neighbours may cover them meanwhile. */
static void test_held_ids_are_never_covered(void **state)
{
	struct fixture *f = *state;
	struct vd_hold hold;
	struct vd_pending pending;
	struct vd_hold_entry e;
	const uint8_t *payload;
	uint32_t mark;

	assert_int_equal(vd_hold_init(&hold, 8, 0, 0), 0);
	assert_int_equal(vd_pending_init(&pending, 8), 0);
	f->cfg.callback = hold_cb;
	f->answer.hold = &hold;
	f->answer.pending = &pending;
	for (uint32_t id = 1; id <= 12; id++)
		feed(f, id, 0);
	apply(f);
	for (uint32_t id = 1; id <= 12; id++)
		assert_int_equal(f->verdict_of[id], id == 3 || id == 5 || id == 7 ? -1 : NF_ACCEPT);
	assert_int_equal(hold.count, 2);
	assert_int_equal(pending.count, 1);
	/* Later: the holds' release and the pending answer, which waits too. */
	while (vd_hold_pop(&hold, UINT64_MAX, &e, &payload))
		assert_int_equal(vd_verdict_batch_add(&f->vb, e.id, &e.wire), 0);
	assert_true(vd_pending_remove(&pending, 7, &mark));
	vd_queue_answer_verdict(&f->answer, 7, vd_verdict_delay(vd_verdict_drop(), 1000), mark);
	assert_int_equal(hold.count, 1);
	assert_true(vd_hold_pop(&hold, UINT64_MAX, &e, &payload));
	assert_int_equal(vd_verdict_batch_add(&f->vb, e.id, &e.wire), 0);
	apply(f);
	assert_int_equal(f->verdict_of[3], NF_ACCEPT);
	assert_int_equal(f->verdict_of[5], NF_ACCEPT);
	assert_int_equal(f->verdict_of[7], NF_DROP);
	vd_hold_free(&hold);
	vd_pending_free(&pending);
}

/* A reject or connection verdict goes at once, unchanged: its edits and
 * its delay are dropped and counted; the kernel's rules get its code. */
static void test_kernel_verdicts_are_never_rewritten_or_held(void **state)
{
	struct fixture *f = *state;
	struct vd_hold hold;

	assert_int_equal(vd_hold_init(&hold, 8, 0, 0), 0);
	use_edit_cb(f);
	f->answer.hold = &hold;
	f->cfg.kernel_mark_mask = 0xf0;
	f->plan[1] = PLAN_TTL_BYPASS;
	f->plan[2] = PLAN_DELAYED_REJECT;
	f->plan[3] = PLAN_TTL;
	for (uint32_t id = 1; id <= 3; id++)
		feed(f, id, 0);
	apply(f);
	assert_int_equal(hold.count, 0);
	assert_int_equal(f->verdict_of[1], NF_REPEAT);
	assert_int_equal(f->payload_len_of[1], 0);
	assert_int_equal(f->verdict_of[2], NF_REPEAT);
	assert_int_equal(f->verdict_of[3], NF_ACCEPT);
	assert_int_equal(f->payload_len_of[3], sizeof(udp4));
	assert_int_equal(f->delta.stripped, 2);
	assert_int_equal(f->delta.bypassed, 1);
	assert_int_equal(f->delta.rejected, 1);
	assert_int_equal(f->delta.repeated, 0);
	assert_int_equal(f->delta.rewritten, 1);
	/* Without generated rules: the reject is a drop, the bypass an accept. */
	f->cfg.kernel_mark_mask = 0;
	f->plan[4] = PLAN_TTL_BYPASS;
	f->plan[5] = PLAN_DELAYED_REJECT;
	feed(f, 4, 0);
	feed(f, 5, 0);
	apply(f);
	assert_int_equal(f->verdict_of[4], NF_ACCEPT);
	assert_int_equal(f->payload_len_of[4], 0);
	assert_int_equal(f->verdict_of[5], NF_DROP);
	assert_int_equal(f->delta.stripped, 4);
	assert_int_equal(f->delta.rejected, 2);
	assert_int_equal(hold.count, 0);
	vd_hold_free(&hold);
}
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_edited_packet_goes_back_in_its_own_verdict,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropped_or_discarded_edits_are_not_sent,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_capacity_is_the_rest_of_the_slot,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_grown_packet_uses_the_room_after_it,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewrite_over_the_send_limit_goes_out_unchanged,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_ids_are_never_covered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_verdicts_are_never_rewritten_or_held,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_rewrites_across_full_batches,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
