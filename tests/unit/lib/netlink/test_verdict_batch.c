/* test_verdict_batch.c - runs of verdicts fold into the right netlink messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "helpers.h"
#include "verdict_batch.h"

#define MAXP 8

struct fixture {
	struct vd_verdict_batch vb;
	char buf[4096];
	struct vt_verdict_msg msgs[MAXP + 2];
	int n;
};

static int decode(struct fixture *f)
{
	const void *buf;
	size_t len;
	const struct nlmsghdr *nlh;
	int remaining;

	vd_verdict_batch_finish(&f->vb, &buf, &len);
	nlh = buf;
	remaining = (int)len;
	f->n = 0;
	while (mnl_nlmsg_ok(nlh, remaining)) {
		vt_verdict_msg_read(nlh, &f->msgs[f->n++]);
		nlh = mnl_nlmsg_next(nlh, &remaining);
	}
	return f->n;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_true(vd_verdict_batch_bufsize(MAXP) <= sizeof(f->buf));
	assert_int_equal(vd_verdict_batch_init(&f->vb, 7, f->buf, MAXP), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vd_verdict_batch_free(&f->vb);
	free(f);
	return 0;
}

static void add(struct fixture *f, uint32_t id, struct vd_verdict v, uint32_t pkt_mark)
{
	struct vd_wire_verdict w;

	assert_true(vd_wire_verdict_from(v, pkt_mark, &w));
	assert_int_equal(vd_verdict_batch_add(&f->vb, id, &w), 0);
}

static void test_empty_batch_sends_nothing(void **state)
{
	assert_int_equal(decode(*state), 0);
}

static void test_single_packet_is_plain_verdict(void **state)
{
	struct fixture *f = *state;

	add(f, 41, vd_verdict_accept(), 0);
	assert_int_equal(decode(f), 1);
	assert_int_equal(f->msgs[0].type, NFQNL_MSG_VERDICT);
	assert_int_equal(f->msgs[0].queue, 7);
	assert_int_equal(f->msgs[0].id, 41);
	assert_int_equal(f->msgs[0].code, NF_ACCEPT);
	assert_false(f->msgs[0].has_mark);
}

static void test_run_of_accepts_folds_into_one_batch(void **state)
{
	struct fixture *f = *state;

	for (uint32_t id = 10; id < 15; id++)
		add(f, id, vd_verdict_accept(), 0);
	assert_int_equal(decode(f), 1);
	assert_int_equal(f->msgs[0].type, NFQNL_MSG_VERDICT_BATCH);
	assert_int_equal(f->msgs[0].id, 14);
	assert_int_equal(f->vb.nmsgs, 1);
}

/* accept accept drop accept accept: the drop must split the run, in order. */
static void test_drop_in_the_middle_splits_runs(void **state)
{
	struct fixture *f = *state;

	add(f, 1, vd_verdict_accept(), 0);
	add(f, 2, vd_verdict_accept(), 0);
	add(f, 3, vd_verdict_drop(), 0);
	add(f, 4, vd_verdict_accept(), 0);
	add(f, 5, vd_verdict_accept(), 0);
	assert_int_equal(decode(f), 3);
	assert_int_equal(f->msgs[0].type, NFQNL_MSG_VERDICT_BATCH);
	assert_int_equal(f->msgs[0].id, 2);
	assert_int_equal(f->msgs[1].type, NFQNL_MSG_VERDICT);
	assert_int_equal(f->msgs[1].id, 3);
	assert_int_equal(f->msgs[1].code, NF_DROP);
	assert_int_equal(f->msgs[2].type, NFQNL_MSG_VERDICT_BATCH);
	assert_int_equal(f->msgs[2].id, 5);
	assert_int_equal(f->msgs[2].code, NF_ACCEPT);
}

static void test_marks_apply_mask_and_split_on_change(void **state)
{
	struct fixture *f = *state;
	struct vd_verdict tag = vd_verdict_with_mark(vd_verdict_accept(), 0x10, 0xff);

	add(f, 1, tag, 0xab00); /* -> 0xab10 */
	add(f, 2, tag, 0xab00); /* same final mark: same run */
	add(f, 3, tag, 0xcd00); /* -> 0xcd10: new run */
	assert_int_equal(decode(f), 2);
	assert_int_equal(f->msgs[0].type, NFQNL_MSG_VERDICT_BATCH);
	assert_true(f->msgs[0].has_mark);
	assert_int_equal(f->msgs[0].mark, 0xab10);
	assert_int_equal(f->msgs[1].type, NFQNL_MSG_VERDICT);
	assert_int_equal(f->msgs[1].mark, 0xcd10);
}

static void test_queue_and_repeat_codes(void **state)
{
	struct fixture *f = *state;

	add(f, 1, vd_verdict_queue(5, false), 0);
	add(f, 2, vd_verdict_queue(5, true), 0);
	add(f, 3, vd_verdict_repeat(), 0);
	assert_int_equal(decode(f), 3);
	assert_int_equal(f->msgs[0].code, NF_QUEUE_NR(5));
	assert_int_equal(f->msgs[1].code, NF_QUEUE_NR(5) | NF_VERDICT_FLAG_QUEUE_BYPASS);
	assert_int_equal(f->msgs[2].code, NF_REPEAT);
}

/* The highest queue numbers (32768-65535) shift into the sign bit of an
 * int in NF_QUEUE_NR: UBSan's "left shift ... cannot be represented". */
static void test_highest_queue_numbers(void **state)
{
	struct fixture *f = *state;

	add(f, 1, vd_verdict_queue(65535, false), 0);
	add(f, 2, vd_verdict_queue(32768, true), 0);
	assert_int_equal(decode(f), 2);
	assert_int_equal(f->msgs[0].code, 0xffff0000u | NF_QUEUE);
	assert_int_equal(f->msgs[1].code, 0x80000000u | NF_QUEUE | NF_VERDICT_FLAG_QUEUE_BYPASS);
}

static void test_unknown_kind_is_refused(void **state)
{
	struct vd_wire_verdict w;
	struct vd_verdict v = { .kind = 2 /* NF_STOLEN: the engine never steals */ };

	(void)state;
	assert_false(vd_wire_verdict_from(v, 0, &w));
	v.kind = 99;
	assert_false(vd_wire_verdict_from(v, 0, &w));
}

static void test_full_batch_refuses_then_reset_accepts(void **state)
{
	struct fixture *f = *state;
	struct vd_wire_verdict w;

	assert_true(vd_wire_verdict_from(vd_verdict_drop(), 0, &w));
	/* Alternate verdicts so that every packet needs its own message. */
	for (uint32_t id = 0; id < MAXP; id++)
		add(f, id, id % 2 ? vd_verdict_drop() : vd_verdict_accept(), 0);
	assert_int_equal(vd_verdict_batch_add(&f->vb, MAXP, &w), -1);
	assert_int_equal(decode(f), MAXP);
	vd_verdict_batch_reset(&f->vb);
	assert_int_equal(vd_verdict_batch_add(&f->vb, MAXP, &w), 0);
	assert_int_equal(decode(f), 1);
	assert_int_equal(f->msgs[0].id, MAXP);
}

static void test_break_ends_a_run(void **state)
{
	struct fixture *f = *state;

	add(f, 1, vd_verdict_accept(), 0);
	add(f, 2, vd_verdict_accept(), 0);
	vd_verdict_batch_break(&f->vb);
	add(f, 3, vd_verdict_accept(), 0);
	assert_int_equal(decode(f), 2);
	assert_int_equal(f->msgs[0].id, 2);
	assert_int_equal(f->msgs[1].id, 3);
	assert_int_equal(f->msgs[1].type, NFQNL_MSG_VERDICT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_batch_sends_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_single_packet_is_plain_verdict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_of_accepts_folds_into_one_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_in_the_middle_splits_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_marks_apply_mask_and_split_on_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_and_repeat_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_highest_queue_numbers, setup, teardown),
		cmocka_unit_test(test_unknown_kind_is_refused),
		cmocka_unit_test_setup_teardown(test_full_batch_refuses_then_reset_accepts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_break_ends_a_run, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
