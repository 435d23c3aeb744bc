/* queue_answer.c - a queue's datagram to verdicts (queue_answer.h). */
#include <arpa/inet.h> /* before the linux/ headers: glibc owns struct in_addr */
#include <libmnl/libmnl.h>

#include "nfq_message.h"
#include "nl_attr.h"
#include "queue_answer.h"

static void count_verdict(struct vd_queue_stats *d, struct vd_verdict v)
{
	switch (v.kind) {
	case VD_VERDICT_ACCEPT:
		d->accepted++;
		break;
	case VD_VERDICT_DROP:
		d->dropped++;
		break;
	case VD_VERDICT_QUEUE:
		d->queued++;
		break;
	default:
		d->repeated++;
		break;
	}
	if (v.flags & VD_VERDICT_F_MARK)
		d->marked++;
}

/* Adds v for packet id to the batch (its mark relative to pkt_mark). */
static void answer(struct vd_queue_answer *a, uint32_t id, struct vd_verdict v, uint32_t pkt_mark)
{
	struct vd_wire_verdict wire;

	if (!vd_wire_verdict_from(v, pkt_mark, &wire)) {
		/* A verdict the kernel does not know fails closed. */
		a->delta->invalid_verdicts++;
		v = vd_verdict_drop();
		vd_wire_verdict_from(v, 0, &wire);
	}
	count_verdict(a->delta, v);
	if (vd_verdict_batch_add(a->vb, id, &wire) < 0) {
		a->flush(a->owner);
		vd_verdict_batch_add(a->vb, id, &wire);
	}
}

/* A packet message that could not be decoded still names a packet the
 * kernel holds: answer it, or it waits in the kernel until the queue is
 * unbound, or worse, the next batch verdict covers it silently. */
static void answer_undecodable(struct vd_queue_answer *a, const uint8_t *buf, size_t len)
{
	uint32_t id;

	if (vd_nfq_message_packet_id(buf, len, &id) < 0) {
		a->delta->kernel_errors++; /* no id: nothing can be answered */
		return;
	}
	a->delta->packets++;
	a->delta->undecodable++;
	answer(a, id, a->cfg->fallback ? a->cfg->fallback(a->cfg->user) : vd_verdict_drop(), 0);
}

static void answer_packet(struct vd_queue_answer *a, const struct nlmsghdr *nlh)
{
	struct vd_packet *pkt = &a->pkt;

	if (vd_nfq_message_decode(nlh, pkt) < 0) {
		answer_undecodable(a, (const uint8_t *)nlh, nlh->nlmsg_len);
		return;
	}
	a->delta->packets++;
	a->delta->bytes += pkt->len;
	if (pkt->parse_error != VD_PARSE_OK)
		a->delta->parse_errors++;
	if (pkt->flags & VD_PACKET_TRUNCATED)
		a->delta->truncated++;
	answer(a, pkt->id, a->cfg->callback(pkt, a->cfg->user),
	       (pkt->meta & VD_META_MARK) ? pkt->mark : 0);
}

void vd_queue_answer_datagram(struct vd_queue_answer *a, const uint8_t *buf, size_t len,
			      bool truncated)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	size_t remaining = len;

	if (truncated) {
		/* Its first message is cut, and it is the only one: the kernel
		 * sends each queued packet in a datagram of its own. */
		a->delta->recv_errors++;
		answer_undecodable(a, buf, len);
		return;
	}
	for (; vd_nl_msg_ok(nlh, remaining); nlh = vd_nl_msg_next(nlh, &remaining)) {
		if (nlh->nlmsg_type == VD_NFQ_MSG_PACKET) {
			answer_packet(a, nlh);
		} else if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
			/* Errors answer verdicts (e.g. ENOENT for an id the kernel
			 * already let go of, after fail-open or a flush). */
			if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*err) && err->error != 0)
				a->delta->kernel_errors++;
		}
	}
}
