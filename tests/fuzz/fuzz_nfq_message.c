/*
 * fuzz_nfq_message.c - the NFQUEUE decoder over a datagram as the kernel
 * would send it (one or more netlink messages; the seeds were captured from
 * a real queue):
 *   - vd_nfq_message_packet_id on the raw bytes, exactly as long as the input;
 *   - vd_nfq_message_decode on every packet message, then the view's
 *     invariants and that each pointer stays inside its message;
 *   - vd_queue_answer_datagram (engine/lib/queue/queue_answer.c), whole and
 *     as a datagram cut short: exactly one verdict per packet message whose
 *     id can be read, in order, and the callback's ids are those ids.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/uio.h>

#include <libmnl/libmnl.h>

#include "fuzz_view.h"
#include "nl_attr.h"
#include "nfq_message.h"
#include "queue_answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* More verdicts than any input can hold messages (a message is >= 16 bytes). */
#define MAX_ANSWERS 4096
#define MAX_INPUT (MAX_ANSWERS * NLMSG_HDRLEN)

/* What the queue answered, in order: a packet id from the callback, or -1
 * for the fallback (which is not told the id). */
struct answers {
	int64_t id[MAX_ANSWERS];
	unsigned n;
	const uint8_t *buf;
	size_t buflen;
};

static struct answers got;

static struct vd_verdict record_callback(const struct vd_packet *pkt, void *user)
{
	struct answers *a = user;

	fuzz_view_check(pkt, true);
	fuzz_view_check_meta(pkt, a->buf, a->buflen);
	FUZZ_CHECK(a->n < MAX_ANSWERS);
	a->id[a->n++] = pkt->id;
	/* Vary the verdicts so that batching folds and splits runs. */
	switch (pkt->id % 4) {
	case 0:
		return vd_verdict_accept();
	case 1:
		return vd_verdict_drop();
	case 2:
		return vd_verdict_with_mark(vd_verdict_accept(), pkt->id, 0xff);
	default:
		return vd_verdict_queue((uint16_t)(pkt->id >> 3),
					pkt->id & 4);
	}
}

static struct vd_verdict record_fallback(void *user)
{
	struct answers *a = user;

	FUZZ_CHECK(a->n < MAX_ANSWERS);
	a->id[a->n++] = -1;
	return vd_verdict_drop();
}

static void no_flush(void *owner)
{
	(void)owner;
	fuzz_fail("the batch overflowed although it was sized for every message", __FILE__,
		  __LINE__);
}

/* Answers buf[0, len), a receive slot of room bytes, and returns how many
 * verdicts the batch holds. */
static unsigned answer(uint8_t *buf, size_t len, bool truncated, size_t room)
{
	static uint8_t vb_buf[2 * (MAX_ANSWERS + 1) * VD_VERDICT_MSG_MAX]
		__attribute__((aligned(4)));
	struct vd_queue_config cfg = { .queue_num = 3, .callback = record_callback,
				       .fallback = record_fallback, .user = &got };
	struct vd_queue_stats delta = { 0 };
	struct vd_verdict_batch vb;
	struct vd_queue_answer a = { .cfg = &cfg, .vb = &vb, .delta = &delta, .flush = no_flush };
	const struct iovec *iov;
	unsigned n, niov;

	FUZZ_CHECK(vd_verdict_batch_init(&vb, 3, vb_buf, MAX_ANSWERS) == 0);
	got.n = 0;
	got.buf = buf;
	got.buflen = room;
	vd_queue_answer_datagram(&a, buf, len, room, truncated);
	n = vb.npackets;
	FUZZ_CHECK(n == got.n);
	FUZZ_CHECK(delta.packets == n);
	FUZZ_CHECK(delta.accepted + delta.dropped + delta.queued + delta.repeated == n);
	/* No edit callback: every byte to send is in the batch's own buffer. */
	vd_verdict_batch_finish(&vb, &iov, &niov);
	for (unsigned i = 0; i < niov; i++)
		FUZZ_CHECK(fuzz_within(iov[i].iov_base, iov[i].iov_len, vb_buf, sizeof(vb_buf)));
	vd_verdict_batch_free(&vb);
	return n;
}

/* The messages of the datagram, walked as queue_answer.c walks them: each
 * packet message that decodes, or else whose id can be read, is one
 * expected verdict (-1 in ids: the fallback's). */
static unsigned expect(const uint8_t *buf, size_t len, int64_t *ids)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	size_t remaining = len;
	unsigned n = 0;

	for (; vd_nl_msg_ok(nlh, remaining); nlh = vd_nl_msg_next(nlh, &remaining)) {
		struct vd_packet pkt;
		uint32_t id;
		int decoded, named;

		if (nlh->nlmsg_type != VD_NFQ_MSG_PACKET)
			continue;
		decoded = vd_nfq_message_decode(nlh, &pkt);
		named = vd_nfq_message_packet_id(nlh, nlh->nlmsg_len, &id);
		/* The decoder needs a valid NFQA_PACKET_HDR, so a decoded packet
		 * can be named too; but the decoder reads up to the aligned end
		 * (as libmnl does) and the id reader stops at nlmsg_len, so that
		 * holds only for an aligned length, which the kernel always
		 * sends. */
		if (decoded == 0) {
			FUZZ_CHECK(named == 0 || nlh->nlmsg_len != NLMSG_ALIGN(nlh->nlmsg_len));
			fuzz_view_check(&pkt, true);
			fuzz_view_check_meta(&pkt, nlh, NLMSG_ALIGN(nlh->nlmsg_len));
		}
		if (decoded == 0)
			ids[n++] = pkt.id;
		else if (named == 0)
			ids[n++] = -1;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int64_t want[MAX_ANSWERS];
	uint8_t *buf;
	size_t buflen = NLMSG_ALIGN(size);
	unsigned n, verdicts;
	uint32_t id;

	if (size > MAX_INPUT)
		return -1;
	/* The raw bytes, exactly: the id reader must stay inside them. */
	if (vd_nfq_message_packet_id(data, size, &id) == 0)
		FUZZ_CHECK(size >= NLMSG_HDRLEN);
	/* Cut short: a writable copy exactly as long as the input. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	FUZZ_CHECK(answer(buf, size, true, size) ==
		   (vd_nfq_message_packet_id(data, size, &id) == 0 ? 1u : 0u));
	free(buf);

	/* A receive buffer ends 4-byte aligned (the decoders read up to it). */
	buf = calloc(1, buflen ? buflen : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	/* The engine's walk first: a fault then names queue_answer.c. */
	verdicts = answer(buf, size, false, buflen);
	n = expect(buf, size, want);
	FUZZ_CHECK(verdicts == n);
	for (unsigned i = 0; i < n; i++)
		FUZZ_CHECK(got.id[i] == want[i]);
	free(buf);
	return 0;
}
