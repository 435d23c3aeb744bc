/*
 * test_queue_answer.c - every packet message a queue receives gets exactly
 * one verdict of its own: a decodable one the callback's, one that cannot be
 * decoded (a datagram cut short, a malformed message) the fallback's, or
 * drop. Before, an undecodable packet got none, so the batch verdict of its
 * neighbours covered it ("accept every id up to X"): it failed open.
 * Rewritten and held packets: test_queue_answer_edit.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "queue_answer_fixture.h"

static void test_decodable_packets_get_the_callback_verdict(void **state)
{
	struct fixture *f = *state;

	for (uint32_t id = 1; id <= 3; id++)
		feed(f, id, 0);
	apply(f);
	for (uint32_t id = 1; id <= 3; id++)
		assert_int_equal(f->verdict_of[id], NF_ACCEPT);
	assert_int_equal(f->delta.packets, 3);
	assert_int_equal(f->delta.undecodable, 0);
}

/* The regression: id 2 arrives cut short between two accepted packets. */
static void test_truncated_datagram_is_answered_not_covered(void **state)
{
	struct fixture *f = *state;

	feed(f, 1, 0);
	feed(f, 2, 60); /* the header attribute is whole, the payload is not */
	feed(f, 3, 0);
	apply(f);
	assert_int_equal(f->verdict_of[1], NF_ACCEPT);
	assert_int_equal(f->verdict_of[2], NF_DROP); /* no fallback: drop */
	assert_int_equal(f->verdict_of[3], NF_ACCEPT);
	assert_int_equal(f->delta.packets, 3);
	assert_int_equal(f->delta.undecodable, 1);
	assert_int_equal(f->delta.dropped, 1);
}

static void test_fallback_decides_undecodable_packets(void **state)
{
	struct fixture *f = *state;

	f->cfg.fallback = repeat_fallback;
	feed(f, 5, 0);
	feed(f, 6, 44);
	apply(f);
	assert_int_equal(f->verdict_of[5], NF_ACCEPT);
	assert_int_equal(f->verdict_of[6], NF_REPEAT);
	assert_int_equal(f->delta.repeated, 1);
}

/* A message without its header attribute names no packet: nothing can be
 * answered, and it is counted; its neighbours are unaffected. */
static void test_message_without_id_is_counted(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[512];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
	mnl_attr_put(nlh, NFQA_PAYLOAD, sizeof(udp4), udp4);
	vd_queue_answer_datagram(&f->answer, buf, nlh->nlmsg_len, sizeof(buf), false);
	feed(f, 7, 0);
	apply(f);
	assert_int_equal(f->delta.kernel_errors, 1);
	assert_int_equal(f->delta.packets, 1);
	assert_int_equal(f->verdict_of[7], NF_ACCEPT);
}

/* Every cut of a packet datagram: answered exactly when the header
 * attribute lies whole within the bytes received, never read past them. */
static void test_every_cut_length(void **state)
{
	uint8_t whole[512];
	size_t len = put_packet(whole, 9, true);
	size_t hdr_end = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)) + NLA_HDRLEN +
			 sizeof(struct nfqnl_msg_packet_hdr);

	(void)state;
	for (size_t cut = 1; cut < len; cut++) {
		uint8_t *copy = malloc(cut);
		uint32_t id = 0;

		assert_non_null(copy);
		memcpy(copy, whole, cut); /* exact size: ASan sees a read past it */
		assert_int_equal(vd_nfq_message_packet_id(copy, cut, &id) == 0, cut >= hdr_end);
		if (cut >= hdr_end)
			assert_int_equal(id, 9);
		free(copy);
	}
}

/* A length that does not fit an int (libmnl's mnl_nlmsg_ok passed it and
 * the walk left the datagram): the message is not walked at all. */
static void test_huge_message_length_is_not_walked(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[512];
	size_t len = put_packet(buf, 11, true);
	uint8_t *copy;

	((struct nlmsghdr *)buf)->nlmsg_len = 0x80000000u;
	copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, buf, len); /* exact size: ASan sees a step past it */
	vd_queue_answer_datagram(&f->answer, copy, len, len, false);
	free(copy);
	apply(f);
	assert_int_equal(f->delta.packets, 0);
	assert_int_equal(f->verdict_of[11], -1);
}
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_decodable_packets_get_the_callback_verdict,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_datagram_is_answered_not_covered,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_decides_undecodable_packets,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_message_without_id_is_counted,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_cut_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_message_length_is_not_walked,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
