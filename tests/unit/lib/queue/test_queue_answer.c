/*
 * test_queue_answer.c - every packet message a queue receives gets exactly
 * one verdict of its own: a decodable one the callback's, one that cannot be
 * decoded (a datagram cut short, a malformed message) the fallback's, or
 * drop. Before, an undecodable packet got none, so the batch verdict of its
 * neighbours covered it ("accept every id up to X"): it failed open.
 *
 * With an edit callback, a packet rewritten in its receive slot goes back in
 * a verdict of its own (accept, repeat, queue), never a dropped or
 * discarded one, and what cannot be sent goes out unchanged.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "nfq_message.h"
#include "helpers.h"
#include "queue_answer.h"
#include "verdict_wire.h"

#define MAXP 16
#define NSLOTS 64
#define ROOM 1024 /* bytes of a receive slot in these tests */

/* IPv4 UDP 198.18.0.1:1234 -> 198.18.0.2:53, 4 bytes of payload; the
 * checksums are filled in by setup. */
static uint8_t udp4[] = {
	0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
	0x04, 0xd2, 0, 53, 0, 12, 0, 0, 'a', 'b', 'c', 'd',
};

/* What the edit callback does with packet id (enum plan). */
enum plan { PLAN_NONE, PLAN_TTL, PLAN_TTL_DROP, PLAN_TTL_DISCARD, PLAN_GROW, PLAN_GROW_BIG,
	    PLAN_TTL_BYPASS, PLAN_DELAYED_REJECT };

struct fixture {
	struct vd_queue_config cfg;
	struct vd_queue_stats delta;
	struct vd_verdict_batch vb;
	struct vd_queue_answer answer;
	uint8_t vb_buf[8192] __attribute__((aligned(8)));
	/* Receive slots: a packet's bytes must stay until its batch is sent. */
	uint8_t slots[NSLOTS][ROOM] __attribute__((aligned(8)));
	unsigned nfed;
	unsigned flushes;
	struct vt_wire *wire;
	enum plan plan[64];
	/* What the edit callback saw last. */
	struct vd_packet_edit *seen_edit;
	uint8_t *seen_buf;
	uint32_t seen_capacity;
	/* Each packet id's verdict code as the kernel would apply the batch:
	 * a batch verdict covers every id up to its own not yet answered. */
	int64_t verdict_of[64];
	/* The packet a verdict carried, copied out of the datagram. */
	uint8_t payload_of[64][128];
	uint32_t payload_len_of[64];
};

static struct vd_verdict accept_cb(const struct vd_packet *pkt, void *user)
{
	(void)pkt;
	(void)user;
	return vd_verdict_accept();
}

static struct vd_verdict repeat_fallback(void *user)
{
	(void)user;
	return vd_verdict_repeat();
}

/* Applies the batch's messages the way nfqnl_recv_verdict(_batch) does. */
static void apply(struct fixture *f)
{
	vt_wire_read(&f->vb, f->wire);
	for (int i = 0; i < f->wire->n; i++) {
		const struct vt_wire_msg *m = &f->wire->msgs[i];
		uint32_t id = m->v.id;

		assert_true(id < 64);
		if (m->v.type == NFQNL_MSG_VERDICT_BATCH) {
			assert_null(m->payload);
			for (uint32_t j = 0; j <= id; j++)
				if (f->verdict_of[j] < 0)
					f->verdict_of[j] = m->v.code;
		} else {
			assert_true(f->verdict_of[id] < 0);
			f->verdict_of[id] = m->v.code;
			if (m->payload) {
				assert_true(m->payload_len <= sizeof(f->payload_of[id]));
				memcpy(f->payload_of[id], m->payload, m->payload_len);
				f->payload_len_of[id] = m->payload_len;
			}
		}
	}
	vd_verdict_batch_reset(&f->vb);
}

/* A full batch is sent as the queue sends it: applied, then emptied. */
static void count_flush(void *owner)
{
	struct fixture *f = owner;

	f->flushes++;
	apply(f);
}

static struct vd_verdict edit_cb(struct vd_packet_edit *edit, void *user)
{
	struct fixture *f = user;
	static const uint8_t more[20] = "abcd0123456789abcdef";

	f->seen_edit = edit;
	f->seen_buf = edit->buf;
	f->seen_capacity = edit->capacity;
	switch (f->plan[edit->pkt->id]) {
	case PLAN_NONE:
		return vd_verdict_accept();
	case PLAN_TTL:
		assert_int_equal(vd_packet_edit_set_ttl(edit, 7), 0);
		return vd_verdict_accept();
	case PLAN_TTL_DROP:
		assert_int_equal(vd_packet_edit_set_ttl(edit, 7), 0);
		return vd_verdict_drop();
	case PLAN_TTL_DISCARD:
		assert_int_equal(vd_packet_edit_set_ttl(edit, 7), 0);
		vd_packet_edit_discard(edit);
		return vd_verdict_accept();
	case PLAN_GROW:
		/* "abcd" becomes 20 bytes: 16 more, into the slot's tail room. */
		assert_int_equal(vd_packet_edit_replace_payload(edit, 0, 4, more, sizeof(more)), 0);
		return vd_verdict_repeat();
	case PLAN_TTL_BYPASS:
		assert_int_equal(vd_packet_edit_set_ttl(edit, 7), 0);
		return vd_verdict_connection(vd_verdict_accept());
	case PLAN_DELAYED_REJECT:
		return vd_verdict_delay(vd_verdict_reject(VD_REJECT_TCP_RESET), 1000000);
	case PLAN_GROW_BIG: {
		uint8_t big[100];

		memset(big, 'x', sizeof(big));
		assert_int_equal(vd_packet_edit_replace_payload(edit, 0, 4, big, sizeof(big)), 0);
		return vd_verdict_repeat();
	}
	}
	return vd_verdict_drop();
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->wire = malloc(sizeof(*f->wire));
	assert_non_null(f->wire);
	udp4[10] = udp4[11] = 0;
	udp4[10] = (uint8_t)(vt_ref_ipv4_checksum(udp4) >> 8);
	udp4[11] = (uint8_t)vt_ref_ipv4_checksum(udp4);
	udp4[26] = udp4[27] = 0;
	vt_l4_checksum_fill(udp4, sizeof(udp4));
	f->cfg = (struct vd_queue_config){ .queue_num = 4, .callback = accept_cb };
	assert_true(vd_verdict_batch_bufsize(MAXP) <= sizeof(f->vb_buf));
	assert_int_equal(vd_verdict_batch_init(&f->vb, 4, f->vb_buf, MAXP), 0);
	f->answer = (struct vd_queue_answer){ .cfg = &f->cfg, .vb = &f->vb, .delta = &f->delta,
					      .flush = count_flush, .owner = f };
	for (size_t i = 0; i < 64; i++)
		f->verdict_of[i] = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vd_verdict_batch_free(&f->vb);
	free(f->wire);
	free(f);
	return 0;
}

/* A packet message as the kernel sends it: header attribute first. */
static size_t put_packet(uint8_t *buf, uint32_t id, bool with_payload)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	struct nfqnl_msg_packet_hdr ph = { .packet_id = htonl(id), .hw_protocol = htons(0x0800),
					   .hook = 3 };

	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->res_id = htons(4);
	mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
	if (with_payload)
		mnl_attr_put(nlh, NFQA_PAYLOAD, sizeof(udp4), udp4);
	return nlh->nlmsg_len;
}

/* The packet as received into the next slot. */
static void feed(struct fixture *f, uint32_t id, size_t cut)
{
	uint8_t *slot = f->slots[f->nfed++ % NSLOTS];
	size_t len = put_packet(slot, id, true);

	vd_queue_answer_datagram(&f->answer, slot, cut ? cut : len, ROOM, cut != 0);
}

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

static void use_edit_cb(struct fixture *f)
{
	f->cfg.callback = NULL; /* edit_callback is used alone */
	f->cfg.edit_callback = edit_cb;
	f->cfg.user = f;
}

/* Where put_packet's packet starts in its slot. */
static size_t packet_offset(void)
{
	return NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)) + NLA_HDRLEN +
	       NLA_ALIGN(sizeof(struct nfqnl_msg_packet_hdr)) + NLA_HDRLEN;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The IPv4 and UDP checksums and lengths of a packet sent back are right. */
static void assert_packet_valid(const uint8_t *p, uint32_t len)
{
	assert_int_equal(be16(p + 2), len);
	assert_int_equal(be16(p + 10), vt_ref_ipv4_checksum(p));
	assert_int_equal(be16(p + 24), len - 20);
	assert_int_equal(be16(p + 26), vt_ref_l4_checksum(p, len));
}

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
		cmocka_unit_test_setup_teardown(test_decodable_packets_get_the_callback_verdict,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_datagram_is_answered_not_covered,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_decides_undecodable_packets, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_message_without_id_is_counted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_every_cut_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_message_length_is_not_walked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_edited_packet_goes_back_in_its_own_verdict,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropped_or_discarded_edits_are_not_sent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_edit_capacity_is_the_rest_of_the_slot, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_grown_packet_uses_the_room_after_it, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rewrite_over_the_send_limit_goes_out_unchanged,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_ids_are_never_covered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_verdicts_are_never_rewritten_or_held,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_rewrites_across_full_batches, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
