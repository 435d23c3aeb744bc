/* verdict_batch.c - fold a receive batch's verdicts into few netlink messages. */
#include <arpa/inet.h> /* before the linux/ headers: glibc owns struct in_addr */
#include <errno.h>
#include <stdint.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "verdict_batch.h"

int vd_verdict_batch_init(struct vd_verdict_batch *vb, uint16_t queue_num, void *buf,
			  unsigned max_packets)
{
	*vb = (struct vd_verdict_batch){ .queue_num = queue_num, .max_packets = max_packets };
	vb->msgs = mnl_nlmsg_batch_start(buf, vd_verdict_batch_bufsize(max_packets) / 2);
	if (!vb->msgs) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void vd_verdict_batch_free(struct vd_verdict_batch *vb)
{
	if (vb->msgs)
		mnl_nlmsg_batch_stop(vb->msgs);
	vb->msgs = NULL;
}

bool vd_wire_verdict_from(struct vd_verdict v, uint32_t pkt_mark, struct vd_wire_verdict *out)
{
	switch (v.kind) {
	case VD_VERDICT_ACCEPT:
	case VD_VERDICT_DROP:
	case VD_VERDICT_REPEAT:
		out->code = v.kind;
		break;
	case VD_VERDICT_QUEUE:
		/* NF_QUEUE_NR shifts an int: undefined for queues above 32767. */
		out->code = (((uint32_t)v.queue << NF_VERDICT_QBITS) & NF_VERDICT_QMASK) | NF_QUEUE;
		if (v.flags & VD_VERDICT_F_BYPASS)
			out->code |= NF_VERDICT_FLAG_QUEUE_BYPASS;
		break;
	default:
		return false;
	}
	out->has_mark = (v.flags & VD_VERDICT_F_MARK) != 0;
	out->mark = out->has_mark ? (pkt_mark & ~v.mark_mask) | (v.mark & v.mark_mask) : 0;
	return true;
}

static bool wire_equal(const struct vd_wire_verdict *a, const struct vd_wire_verdict *b)
{
	return a->code == b->code && a->has_mark == b->has_mark && a->mark == b->mark;
}

/* Writes the open run as one message: a batch verdict only when it covers
 * more than one packet, since a plain verdict is what the kernel handles
 * fastest for one. */
static void emit_run(struct vd_verdict_batch *vb)
{
	struct nlmsghdr *nlh;
	int type;

	if (vb->run_len == 0)
		return;
	type = vb->run_len > 1 ? NFQNL_MSG_VERDICT_BATCH : NFQNL_MSG_VERDICT;
	nlh = nfq_nlmsg_put(mnl_nlmsg_batch_current(vb->msgs), type, vb->queue_num);
	nfq_nlmsg_verdict_put(nlh, (int)vb->run_last_id, (int)vb->run.code);
	if (vb->run.has_mark)
		nfq_nlmsg_verdict_put_mark(nlh, vb->run.mark);
	vb->run_len = 0;
	vb->nmsgs++;
	/* Each packet adds at most one message and add() refuses more than
	 * max_packets, so the buffer from vd_verdict_batch_bufsize never
	 * overflows and libmnl's overflow carry-over is never needed. */
	mnl_nlmsg_batch_next(vb->msgs);
}

int vd_verdict_batch_add(struct vd_verdict_batch *vb, uint32_t id, const struct vd_wire_verdict *w)
{
	if (vb->npackets >= vb->max_packets) {
		errno = ENOSPC;
		return -1;
	}
	vb->npackets++;
	if (vb->run_len > 0 && wire_equal(&vb->run, w)) {
		vb->run_len++;
		vb->run_last_id = id;
		return 0;
	}
	emit_run(vb);
	vb->run = *w;
	vb->run_len = 1;
	vb->run_last_id = id;
	return 0;
}

void vd_verdict_batch_break(struct vd_verdict_batch *vb)
{
	emit_run(vb);
}

void vd_verdict_batch_finish(struct vd_verdict_batch *vb, const void **buf, size_t *len)
{
	emit_run(vb);
	*buf = mnl_nlmsg_batch_head(vb->msgs);
	*len = mnl_nlmsg_batch_size(vb->msgs);
}

void vd_verdict_batch_reset(struct vd_verdict_batch *vb)
{
	mnl_nlmsg_batch_reset(vb->msgs);
	vb->run_len = 0;
	vb->nmsgs = 0;
	vb->npackets = 0;
}
