/* test_verdict_batch.c - runs of verdicts fold into the right netlink
 * messages; verdicts carrying a rewritten packet are messages of their own,
 * spliced in without a copy, within one sendmsg's limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "helpers.h"
#include "verdict_batch.h"
#include "verdict_wire.h"

#define MAXP 8

struct fixture {
	struct vd_verdict_batch vb;
	uint8_t buf[4096] __attribute__((aligned(8)));
	struct vt_verdict_msg msgs[MAXP + 2];
	int n;
	struct vt_wire *wire;
};

static int decode(struct fixture *f)
{
	f->n = vt_wire_read(&f->vb, f->wire);
	assert_true(f->n <= MAXP + 2);
	for (int i = 0; i < f->n; i++)
		f->msgs[i] = f->wire->msgs[i].v;
	return f->n;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->wire = malloc(sizeof(*f->wire));
	assert_non_null(f->wire);
	assert_true(vd_verdict_batch_bufsize(MAXP) <= sizeof(f->buf));
	assert_int_equal(vd_verdict_batch_init(&f->vb, 7, f->buf, MAXP), 0);
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

static void add(struct fixture *f, uint32_t id, struct vd_verdict v, uint32_t pkt_mark)
{
	struct vd_wire_verdict w;

	assert_true(vd_wire_verdict_from(v, pkt_mark, 0, &w));
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
	assert_false(vd_wire_verdict_from(v, 0, 0, &w));
	v.kind = 99;
	assert_false(vd_wire_verdict_from(v, 0, 0, &w));
}

static void test_full_batch_refuses_then_reset_accepts(void **state)
{
	struct fixture *f = *state;
	struct vd_wire_verdict w;

	assert_true(vd_wire_verdict_from(vd_verdict_drop(), 0, 0, &w));
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

/* What the kernel does with one sendmsg of verdicts, per packet id. */
struct applied {
	int64_t code;              /* -1: no verdict yet */
	bool has_mark;
	uint32_t mark;
	const uint8_t *payload;    /* in the joined datagram, until the next read */
	uint32_t payload_len;
	uint8_t copy[300];         /* its first bytes, kept */
};

/* A fixed-seed xorshift: failures reproduce. */
static uint32_t vt_rand(void)
{
	static uint32_t x = 2463534242u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

/* As nfqnl_recv_verdict(_batch): a batch verdict covers every id up to its
 * own not answered yet; a plain verdict must find its id unanswered. */
static void kernel_apply(const struct vt_wire *w, struct applied *ids, uint32_t nids)
{
	for (int i = 0; i < w->n; i++) {
		const struct vt_wire_msg *m = &w->msgs[i];
		uint32_t first = m->v.type == NFQNL_MSG_VERDICT_BATCH ? 0 : m->v.id;

		assert_true(m->v.id < nids);
		assert_int_equal(m->v.queue, 7);
		if (m->v.type == NFQNL_MSG_VERDICT_BATCH)
			assert_null(m->payload); /* the kernel ignores it there */
		else
			assert_true(ids[m->v.id].code < 0);
		for (uint32_t id = first; id <= m->v.id; id++) {
			if (ids[id].code >= 0)
				continue;
			ids[id] = (struct applied){ .code = m->v.code, .has_mark = m->v.has_mark,
						    .mark = m->v.mark, .payload = m->payload,
						    .payload_len = m->payload_len };
			if (m->payload)
				memcpy(ids[id].copy, m->payload,
				       m->payload_len < 300 ? m->payload_len : 300);
		}
	}
}

static void add_payload(struct fixture *f, uint32_t id, struct vd_verdict v, const uint8_t *p,
			uint32_t len)
{
	struct vd_wire_verdict w;

	assert_true(vd_wire_verdict_from(v, 0, 0, &w));
	assert_int_equal(vd_verdict_batch_add_payload(&f->vb, id, &w, p, len), 0);
}

/* accept accept REWRITE accept accept REWRITE(mark) accept: each rewritten
 * packet is a verdict of its own between the runs, its bytes spliced in
 * from where they lie, padded to 4 bytes. */
static void test_payload_verdicts_are_their_own_messages(void **state)
{
	struct fixture *f = *state;
	static const uint8_t hello[5] = "hello", eight[8] = "12345678";
	struct vd_verdict tag = vd_verdict_with_mark(vd_verdict_accept(), 0x42, 0xff);
	struct applied ids[8];
	const struct iovec *iov;
	unsigned niov;

	for (int i = 0; i < 8; i++)
		ids[i].code = -1;
	add(f, 1, vd_verdict_accept(), 0);
	add(f, 2, vd_verdict_accept(), 0);
	add_payload(f, 3, vd_verdict_accept(), hello, sizeof(hello));
	add(f, 4, vd_verdict_accept(), 0);
	add(f, 5, vd_verdict_accept(), 0);
	add_payload(f, 6, tag, eight, sizeof(eight));
	add(f, 7, vd_verdict_accept(), 0);
	assert_int_equal(decode(f), 5);
	assert_int_equal(f->msgs[0].type, NFQNL_MSG_VERDICT_BATCH);
	assert_int_equal(f->msgs[0].id, 2);
	assert_int_equal(f->msgs[1].type, NFQNL_MSG_VERDICT);
	assert_int_equal(f->msgs[1].id, 3);
	assert_int_equal(f->wire->msgs[1].payload_len, 5);
	assert_memory_equal(f->wire->msgs[1].payload, hello, 5);
	assert_false(f->msgs[1].has_mark);
	assert_int_equal(f->msgs[2].type, NFQNL_MSG_VERDICT_BATCH);
	assert_int_equal(f->msgs[2].id, 5);
	assert_int_equal(f->msgs[3].type, NFQNL_MSG_VERDICT);
	assert_int_equal(f->msgs[3].id, 6);
	assert_true(f->msgs[3].has_mark);
	assert_int_equal(f->msgs[3].mark, 0x42);
	assert_int_equal(f->wire->msgs[3].payload_len, 8);
	assert_memory_equal(f->wire->msgs[3].payload, eight, 8);
	assert_int_equal(f->msgs[4].type, NFQNL_MSG_VERDICT);
	assert_int_equal(f->msgs[4].id, 7);
	assert_int_equal(f->vb.nmsgs, 5);
	assert_int_equal(f->vb.npayloads, 2);
	kernel_apply(f->wire, ids, 8);
	for (uint32_t id = 1; id <= 7; id++)
		assert_int_equal(ids[id].code, NF_ACCEPT);
	assert_null(ids[5].payload);
	/* Not copied: the packets themselves are buffers of the send. */
	vd_verdict_batch_finish(&f->vb, &iov, &niov);
	assert_int_equal(niov, 5);
	assert_ptr_equal(iov[1].iov_base, hello);
	assert_int_equal(iov[1].iov_len, 5);
	assert_ptr_equal(iov[3].iov_base, eight);
	/* The next segment starts with the 3 bytes of padding. */
	assert_memory_equal(iov[2].iov_base, "\0\0\0", 3);
	/* and the message after them lies 4-byte aligned in the buffer, as
	 * struct nlmsghdr needs (UBSan: misaligned access). */
	assert_int_equal(((const uint8_t *)iov[2].iov_base + 3 - f->buf) % 4, 0);
}

/* A payload verdict first and last: no empty buffer, the last one only
 * the padding. */
static void test_payload_verdict_first_and_last(void **state)
{
	struct fixture *f = *state;
	static const uint8_t one[1] = { 0x99 }, six[6] = { 1, 2, 3, 4, 5, 6 };

	add_payload(f, 10, vd_verdict_repeat(), one, 1);
	add(f, 11, vd_verdict_drop(), 0);
	add_payload(f, 12, vd_verdict_queue(3, false), six, 6);
	assert_int_equal(decode(f), 3);
	assert_int_equal(f->wire->niov, 5);
	assert_int_equal(f->msgs[0].code, NF_REPEAT);
	assert_int_equal(f->wire->msgs[0].payload[0], 0x99);
	assert_int_equal(f->msgs[1].id, 11);
	assert_int_equal(f->msgs[2].code, NF_QUEUE_NR(3));
	assert_memory_equal(f->wire->msgs[2].payload, six, 6);
	assert_int_equal(f->wire->len, f->wire->msgs[0].nlmsg_len + f->wire->msgs[1].nlmsg_len +
				       f->wire->msgs[2].nlmsg_len);
}

static void test_payload_too_long_or_empty_is_refused(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[VD_VERDICT_PAYLOAD_MAX + 1];
	struct vd_wire_verdict w;

	assert_true(vd_wire_verdict_from(vd_verdict_accept(), 0, 0, &w));
	assert_int_equal(vd_verdict_batch_add_payload(&f->vb, 1, &w, big, sizeof(big)), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(vd_verdict_batch_add_payload(&f->vb, 1, &w, big, 0), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(vd_verdict_batch_add_payload(&f->vb, 1, &w, big, sizeof(big) - 1), 0);
	assert_int_equal(decode(f), 1);
	assert_int_equal(f->wire->msgs[0].payload_len, VD_VERDICT_PAYLOAD_MAX);
}

/* A sendmsg takes at most UIO_MAXIOV buffers: with a batch of 1024 packets
 * all rewritten, the 512th no longer fits (two buffers each, one more for
 * the last segment) and asks for a send first. */
static void test_iov_limit_ends_the_batch(void **state)
{
	enum { N = 1024 };
	struct vd_verdict_batch vb;
	void *buf = malloc(vd_verdict_batch_bufsize(N));
	struct vt_wire *w = malloc(sizeof(*w));
	static const uint8_t three[3] = { 7, 7, 7 };
	struct vd_wire_verdict wire;
	uint32_t id;

	(void)state;
	assert_non_null(buf);
	assert_non_null(w);
	assert_int_equal(vd_verdict_batch_init(&vb, 7, buf, N), 0);
	assert_true(vd_wire_verdict_from(vd_verdict_accept(), 0, 0, &wire));
	for (id = 0; vd_verdict_batch_add_payload(&vb, id, &wire, three, 3) == 0; id++)
		;
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(id, (VD_VERDICT_BATCH_MAX_IOV - 1) / 2);
	assert_int_equal(vt_wire_read(&vb, w), id);
	assert_true(w->niov <= VD_VERDICT_BATCH_MAX_IOV);
	for (uint32_t i = 0; i < id; i++)
		assert_int_equal(w->msgs[i].v.id, i);
	/* Plain verdicts need no buffer of their own: they still fit. */
	assert_int_equal(vd_verdict_batch_add(&vb, id, &wire), 0);
	vd_verdict_batch_reset(&vb);
	assert_int_equal(vd_verdict_batch_add_payload(&vb, id + 1, &wire, three, 3), 0);
	assert_int_equal(vt_wire_read(&vb, w), 1);
	vd_verdict_batch_free(&vb);
	free(w);
	free(buf);
}

/* netlink_sendmsg refuses a send above sk_sndbuf - 32: the batch asks for
 * a send before it would pass the limit, and a message that cannot fit
 * even alone is refused (it goes out without its payload). */
static void test_send_limit_ends_the_batch(void **state)
{
	struct fixture *f = *state;
	static uint8_t p300[300], p1000[1000];
	struct vd_wire_verdict w;
	size_t msg = 0;

	assert_true(vd_wire_verdict_from(vd_verdict_accept(), 0, 0, &w));
	vd_verdict_batch_set_send_limit(&f->vb, 1000);
	assert_int_equal(vd_verdict_batch_add_payload(&f->vb, 1, &w, p1000, sizeof(p1000)), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(vd_verdict_batch_add_payload(&f->vb, 1, &w, p300, 300), 0);
	assert_int_equal(vd_verdict_batch_add_payload(&f->vb, 2, &w, p300, 300), 0);
	assert_int_equal(vd_verdict_batch_add_payload(&f->vb, 3, &w, p300, 300), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(decode(f), 2);
	for (int i = 0; i < 2; i++)
		msg += f->wire->msgs[i].nlmsg_len;
	assert_int_equal(f->wire->len, msg);
	assert_true(f->wire->len <= 1000);
	vd_verdict_batch_reset(&f->vb);
	assert_int_equal(vd_verdict_batch_add_payload(&f->vb, 3, &w, p300, 300), 0);
	assert_int_equal(decode(f), 1);
	assert_int_equal(f->msgs[0].id, 3);
}

/* Random verdicts, some rewritten, through a small batch with a small send
 * limit: every send stays within the limit and every id ends with exactly
 * the verdict, mark and bytes it was given. */
static void test_random_mix_applies_exactly(void **state)
{
	enum { N = 400, BATCH = 32, LIMIT = 3000 };
	static uint8_t src[N][300];
	static struct applied want[N], got[N];
	struct vd_verdict_batch vb;
	uint8_t *buf = malloc(vd_verdict_batch_bufsize(BATCH));
	struct vt_wire *w = malloc(sizeof(*w));
	unsigned sends = 0;

	(void)state;
	assert_non_null(buf);
	assert_non_null(w);
	assert_int_equal(vd_verdict_batch_init(&vb, 7, buf, BATCH), 0);
	vd_verdict_batch_set_send_limit(&vb, LIMIT);
	for (uint32_t id = 0; id < N; id++) {
		uint32_t r = vt_rand();
		struct vd_verdict v = r % 3 ? vd_verdict_accept() : vd_verdict_drop();
		struct vd_wire_verdict wire;
		uint32_t len = 1 + vt_rand() % 300;
		bool payload = (r >> 4) % 3 == 0;
		int ret;

		if ((r >> 8) % 4 == 0)
			v = vd_verdict_with_mark(v, (r >> 10) % 2, 1);
		for (uint32_t i = 0; i < len; i++)
			src[id][i] = (uint8_t)vt_rand();
		assert_true(vd_wire_verdict_from(v, 0, 0, &wire));
		want[id] = (struct applied){ .code = wire.code, .has_mark = wire.has_mark,
					     .mark = wire.mark, .payload = payload ? src[id] : NULL,
					     .payload_len = payload ? len : 0 };
		got[id].code = -1;
		for (int attempt = 0; attempt < 2; attempt++) {
			ret = payload ? vd_verdict_batch_add_payload(&vb, id, &wire, src[id], len)
				      : vd_verdict_batch_add(&vb, id, &wire);
			if (ret == 0)
				break;
			assert_int_equal(errno, ENOSPC);
			assert_int_equal(attempt, 0);
			vt_wire_read(&vb, w);
			assert_true(w->len <= LIMIT);
			kernel_apply(w, got, N);
			vd_verdict_batch_reset(&vb);
			sends++;
		}
		assert_int_equal(ret, 0);
	}
	vt_wire_read(&vb, w);
	assert_true(w->len <= LIMIT);
	kernel_apply(w, got, N);
	assert_true(sends > 10);
	for (uint32_t id = 0; id < N; id++) {
		assert_int_equal(got[id].code, want[id].code);
		assert_int_equal(got[id].has_mark, want[id].has_mark);
		assert_int_equal(got[id].mark, want[id].mark);
		assert_int_equal(got[id].payload != NULL, want[id].payload != NULL);
		assert_int_equal(got[id].payload_len, want[id].payload_len);
		if (want[id].payload)
			assert_memory_equal(got[id].copy, src[id], want[id].payload_len);
	}
	vd_verdict_batch_free(&vb);
	free(w);
	free(buf);
}

/* A packet held back (id 3) while later ones are answered: no message may
 * cover it until its own verdict, sent later in another batch. */
static void test_no_fold_never_covers_a_held_id(void **state)
{
	struct fixture *f = *state;
	static struct applied ids[16];
	struct vd_wire_verdict accept, drop;

	for (int i = 0; i < 16; i++)
		ids[i].code = -1;
	assert_true(vd_wire_verdict_from(vd_verdict_accept(), 0, 0, &accept));
	assert_true(vd_wire_verdict_from(vd_verdict_drop(), 0, 0, &drop));
	assert_int_equal(vd_verdict_batch_add(&f->vb, 1, &accept), 0);
	assert_int_equal(vd_verdict_batch_add(&f->vb, 2, &accept), 0);
	vd_verdict_batch_set_fold(&f->vb, false); /* 3 is held from here */
	for (uint32_t id = 4; id <= 8; id++)
		assert_int_equal(vd_verdict_batch_add(&f->vb, id, &accept), 0);
	decode(f);
	kernel_apply(f->wire, ids, 16);
	for (int i = 0; i < f->n; i++)
		if (f->msgs[i].type == NFQNL_MSG_VERDICT_BATCH)
			assert_true(f->msgs[i].id < 3);
	assert_true(ids[3].code < 0);
	for (uint32_t id = 4; id <= 8; id++)
		assert_int_equal(ids[id].code, NF_ACCEPT);
	vd_verdict_batch_reset(&f->vb);
	/* Released: its own verdict, then folding again. */
	assert_int_equal(vd_verdict_batch_add(&f->vb, 3, &drop), 0);
	vd_verdict_batch_set_fold(&f->vb, true);
	for (uint32_t id = 9; id <= 12; id++)
		assert_int_equal(vd_verdict_batch_add(&f->vb, id, &accept), 0);
	assert_int_equal(decode(f), 2);
	assert_int_equal(f->msgs[1].type, NFQNL_MSG_VERDICT_BATCH);
	kernel_apply(f->wire, ids, 16);
	assert_int_equal(ids[3].code, NF_DROP);
	assert_int_equal(ids[12].code, NF_ACCEPT);
}

/* With folding off, released verdicts added as the lowest join the open
 * run in one batch verdict, but only going up and with the same verdict. */
static void test_lowest_releases_fold_with_folding_off(void **state)
{
	struct fixture *f = *state;
	struct vd_wire_verdict accept, drop;

	assert_true(vd_wire_verdict_from(vd_verdict_accept(), 0, 0, &accept));
	assert_true(vd_wire_verdict_from(vd_verdict_drop(), 0, 0, &drop));
	vd_verdict_batch_set_fold(&f->vb, false);
	assert_int_equal(vd_verdict_batch_add(&f->vb, 1, &accept), 0);
	assert_int_equal(vd_verdict_batch_add(&f->vb, 2, &accept), 0); /* not folded */
	assert_int_equal(vd_verdict_batch_add_lowest(&f->vb, 3, &accept), 0);
	assert_int_equal(vd_verdict_batch_add_lowest(&f->vb, 5, &accept), 0);
	assert_int_equal(vd_verdict_batch_add_lowest(&f->vb, 4, &accept), 0); /* down: new run */
	assert_int_equal(vd_verdict_batch_add_lowest(&f->vb, 6, &drop), 0);   /* new verdict */
	assert_int_equal(vd_verdict_batch_add_lowest(&f->vb, 7, &drop), 0);
	assert_int_equal(vd_verdict_batch_add(&f->vb, 8, &drop), 0);          /* not folded */
	assert_int_equal(decode(f), 5);
	assert_int_equal(f->msgs[0].type, NFQNL_MSG_VERDICT);
	assert_int_equal(f->msgs[0].id, 1);
	assert_int_equal(f->msgs[1].type, NFQNL_MSG_VERDICT_BATCH);
	assert_int_equal(f->msgs[1].id, 5);
	assert_int_equal(f->msgs[2].type, NFQNL_MSG_VERDICT);
	assert_int_equal(f->msgs[2].id, 4);
	assert_int_equal(f->msgs[3].type, NFQNL_MSG_VERDICT_BATCH);
	assert_int_equal(f->msgs[3].id, 7);
	assert_int_equal(f->msgs[3].code, NF_DROP);
	assert_int_equal(f->msgs[4].type, NFQNL_MSG_VERDICT);
	assert_int_equal(f->msgs[4].id, 8);
	assert_int_equal(f->vb.npackets, 8);
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
		cmocka_unit_test_setup_teardown(test_payload_verdicts_are_their_own_messages,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_payload_verdict_first_and_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_payload_too_long_or_empty_is_refused, setup,
						teardown),
		cmocka_unit_test(test_iov_limit_ends_the_batch),
		cmocka_unit_test_setup_teardown(test_send_limit_ends_the_batch, setup, teardown),
		cmocka_unit_test(test_random_mix_applies_exactly),
		cmocka_unit_test_setup_teardown(test_no_fold_never_covers_a_held_id, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lowest_releases_fold_with_folding_off, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
