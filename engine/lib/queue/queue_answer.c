/* queue_answer.c - a queue's datagram to verdicts (queue_answer.h). */
#include <arpa/inet.h> /* before the linux/ headers: glibc owns struct in_addr */
#include <errno.h>
#include <time.h>

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
	case VD_VERDICT_REJECT:
		d->rejected++;
		break;
	default:
		d->repeated++;
		break;
	}
	if (v.flags & VD_VERDICT_F_MARK)
		d->marked++;
	if (v.flags & VD_VERDICT_F_CONNECTION)
		d->bypassed++;
}

/* A reject or a connection decision is carried out by the kernel's rules
 * at once, on the packet as it came (verdict/verdict.h): a delay would hold
 * a packet the rules then refuse, and edits would go to a connection
 * verdictd no longer sees. Both are dropped, and counted. */
static struct vd_verdict kernel_decides(struct vd_queue_answer *a, struct vd_verdict v,
					struct vd_packet_edit *edit)
{
	if (v.kind != VD_VERDICT_REJECT && !(v.flags & VD_VERDICT_F_CONNECTION))
		return v;
	if (v.delay_us || vd_packet_edit_pending(edit)) {
		a->delta->stripped++;
		v.delay_us = 0;
		if (edit)
			vd_packet_edit_discard(edit);
	}
	return v;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* From here on, until the owner says nothing is held, no batch verdict may
 * cover an id: the one just held or remembered is below every later one. */
static void hold_begin(struct vd_queue_answer *a)
{
	vd_verdict_batch_set_fold(a->vb, false);
}

/* Remembers a pending packet; false when it cannot be (full, or stopping). */
static bool answer_later(struct vd_queue_answer *a, uint32_t id, uint32_t pkt_mark,
			 struct vd_packet_edit *edit)
{
	if (!a->pending || a->stopping)
		return false;
	if (vd_pending_add(a->pending, id, pkt_mark) < 0) {
		if (a->hold)
			a->hold->overflow++;
		return false;
	}
	/* The slot is reused by the next batch: edits cannot wait for the
	 * answer (verdict/queue.h). */
	if (edit)
		vd_packet_edit_discard(edit);
	hold_begin(a);
	return true;
}

/* Holds wire for v.delay_us; false when it must go at once. */
static bool hold(struct vd_queue_answer *a, uint32_t id, struct vd_verdict v,
		 const struct vd_wire_verdict *wire, const uint8_t *payload, uint32_t len)
{
	if (!a->hold || a->stopping || v.delay_us == 0)
		return false;
	if (vd_hold_add(a->hold, now_ns() + (uint64_t)v.delay_us * 1000u, id, wire, payload,
			len) < 0) {
		a->hold->overflow++;
		return false;
	}
	hold_begin(a);
	return true;
}

struct vd_verdict vd_queue_answer_fallback(const struct vd_queue_answer *a)
{
	struct vd_verdict v = a->cfg->fallback ? a->cfg->fallback(a->cfg->user) : vd_verdict_drop();

	v.delay_us = 0;
	return v;
}

/* Adds v for packet id to the batch (its mark relative to pkt_mark), with
 * the packet's new content when edit holds edits to send; or holds it until
 * its delay is over, or remembers it for a later answer. */
static void answer(struct vd_queue_answer *a, uint32_t id, struct vd_verdict v, uint32_t pkt_mark,
		   struct vd_packet_edit *edit)
{
	struct vd_wire_verdict wire;
	bool payload;

	if (v.kind == VD_VERDICT_PENDING) {
		if (answer_later(a, id, pkt_mark, edit))
			return;
		if (a->pending) {
			v = vd_queue_answer_fallback(a);
			edit = NULL;
		}
	}
	if (!vd_wire_verdict_from(v, pkt_mark, a->cfg->kernel_mark_mask, &wire)) {
		/* A verdict the kernel does not know fails closed. */
		a->delta->invalid_verdicts++;
		v = vd_verdict_drop();
		vd_wire_verdict_from(v, 0, 0, &wire);
	}
	count_verdict(a->delta, v);
	v = kernel_decides(a, v, edit);
	/* A dropped packet's edits go nowhere: the kernel frees the original. */
	payload = v.kind != VD_VERDICT_DROP && vd_packet_edit_pending(edit);
	if (hold(a, id, v, &wire, payload ? edit->buf : NULL, payload ? edit->len : 0)) {
		if (payload)
			a->delta->rewritten++;
		return;
	}
	if (payload) {
		int ret = vd_verdict_batch_add_payload(a->vb, id, &wire, edit->buf, edit->len);

		if (ret < 0 && errno == ENOSPC) {
			a->flush(a->owner);
			ret = vd_verdict_batch_add_payload(a->vb, id, &wire, edit->buf, edit->len);
		}
		if (ret == 0) {
			a->delta->rewritten++;
			return;
		}
		/* Beyond what one verdict or one send can carry: the packet
		 * goes on as it came, which the kernel still holds. */
		a->delta->rewrite_refused++;
		vd_packet_edit_discard(edit);
	}
	if (vd_verdict_batch_add(a->vb, id, &wire) < 0) {
		a->flush(a->owner);
		vd_verdict_batch_add(a->vb, id, &wire);
	}
}

void vd_queue_answer_verdict(struct vd_queue_answer *a, uint32_t id, struct vd_verdict v,
			     uint32_t pkt_mark)
{
	answer(a, id, v, pkt_mark, NULL);
}

/* Puts a released verdict in the batch; a full batch is sent first. */
static void release_one(struct vd_queue_answer *a, const struct vd_hold_entry *e,
			const uint8_t *payload)
{
	bool lowest;
	int ret;

	if (payload) {
		ret = vd_verdict_batch_add_payload(a->vb, e->id, &e->wire, payload, e->copy_len);
		if (ret < 0 && errno == ENOSPC) {
			a->flush(a->owner);
			ret = vd_verdict_batch_add_payload(a->vb, e->id, &e->wire, payload,
							   e->copy_len);
		}
		if (ret == 0)
			return;
		a->delta->rewrite_refused++; /* checked at hold time: not expected */
	}
	/* Every later release is a hold still in place, hence above e->id
	 * too: the batch verdict covers nothing that waits. */
	lowest = (!a->pending || a->pending->count == 0) && vd_hold_all_above(a->hold, e->id);
	ret = lowest ? vd_verdict_batch_add_lowest(a->vb, e->id, &e->wire)
		     : vd_verdict_batch_add(a->vb, e->id, &e->wire);
	if (ret < 0) {
		a->flush(a->owner);
		vd_verdict_batch_add(a->vb, e->id, &e->wire);
	}
}

void vd_queue_answer_release(struct vd_queue_answer *a, uint64_t now_ns)
{
	struct vd_hold_entry e;
	const uint8_t *payload;

	if (!a->hold)
		return;
	while (vd_hold_pop(a->hold, now_ns, &e, &payload)) {
		if (now_ns != UINT64_MAX)
			vd_hold_record(a->hold, now_ns - e.release_ns);
		release_one(a, &e, payload);
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
	answer(a, id, a->cfg->fallback ? a->cfg->fallback(a->cfg->user) : vd_verdict_drop(), 0,
	       NULL);
}

_Static_assert(VD_QUEUE_MAX_PAYLOAD == VD_VERDICT_PAYLOAD_MAX,
	       "verdict/queue.h promises what one verdict attribute carries");

/* The edit callback's verdict for the decoded pkt of the slot [slot,
 * slot + room): the packet may grow up to the end of the slot, as far as one
 * verdict attribute carries. Costs a few stores when nothing is edited. */
static struct vd_verdict edit_verdict(struct vd_queue_answer *a, uint8_t *slot, size_t room)
{
	struct vd_packet *pkt = &a->pkt;
	/* pkt->data points into the slot: the same byte, writable. */
	uint8_t *data = pkt->data ? slot + (pkt->data - slot) : NULL;
	size_t capacity = data ? room - (size_t)(data - slot) : 0;

	if (capacity > VD_VERDICT_PAYLOAD_MAX)
		capacity = VD_VERDICT_PAYLOAD_MAX;
	vd_packet_edit_prepare(&a->edit, pkt, data, (uint32_t)capacity, 0);
	return a->cfg->edit_callback(&a->edit, a->cfg->user);
}

static void answer_packet(struct vd_queue_answer *a, const struct nlmsghdr *nlh, uint8_t *slot,
			  size_t room)
{
	struct vd_packet *pkt = &a->pkt;
	uint32_t mark;

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
	/* The kernel's mark, read before a callback that may write the view. */
	mark = (pkt->meta & VD_META_MARK) ? pkt->mark : 0;
	if (a->cfg->edit_callback)
		answer(a, pkt->id, edit_verdict(a, slot, room), mark, &a->edit);
	else
		answer(a, pkt->id, a->cfg->callback(pkt, a->cfg->user), mark, NULL);
}

void vd_queue_answer_datagram(struct vd_queue_answer *a, uint8_t *buf, size_t len, size_t room,
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
			answer_packet(a, nlh, buf, room);
		} else if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
			/* Errors answer verdicts (e.g. ENOENT for an id the kernel
			 * already let go of, after fail-open or a flush). */
			if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*err) && err->error != 0)
				a->delta->kernel_errors++;
		}
	}
}
