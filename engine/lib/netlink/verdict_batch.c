/* verdict_batch.c - fold a receive batch's verdicts into few netlink messages. */
#include <arpa/inet.h> /* before the linux/ headers: glibc owns struct in_addr */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include <verdict/kernel_mark.h>

#include "verdict_batch.h"

/* A verdict message's length before any payload: header, nfgenmsg,
 * NFQA_VERDICT_HDR, and NFQA_MARK when set. */
static size_t verdict_msg_len(const struct vd_wire_verdict *w)
{
	return MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)) +
	       MNL_ATTR_HDRLEN + MNL_ALIGN(sizeof(struct nfqnl_msg_verdict_hdr)) +
	       (w->has_mark ? MNL_ATTR_HDRLEN + sizeof(uint32_t) : 0);
}

/* The buffer bytes and packet bytes of a payload verdict. */
static size_t payload_msg_len(const struct vd_wire_verdict *w, uint32_t len)
{
	return verdict_msg_len(w) + MNL_ATTR_HDRLEN + MNL_ALIGN(len);
}

int vd_verdict_batch_init(struct vd_verdict_batch *vb, uint16_t queue_num, void *buf,
			  unsigned max_packets)
{
	/* Each payload verdict closes a segment and adds its packet; one more
	 * for the last segment. */
	size_t max_iov = 2 * (size_t)max_packets + 1;

	*vb = (struct vd_verdict_batch){ .buf = buf, .queue_num = queue_num,
					 .max_packets = max_packets, .max_bytes = SIZE_MAX };
	vb->max_iov = max_iov < VD_VERDICT_BATCH_MAX_IOV ? (unsigned)max_iov
							 : VD_VERDICT_BATCH_MAX_IOV;
	vb->iov = calloc(vb->max_iov, sizeof(*vb->iov));
	if (!vb->iov) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void vd_verdict_batch_free(struct vd_verdict_batch *vb)
{
	free(vb->iov);
	vb->iov = NULL;
}

void vd_verdict_batch_set_send_limit(struct vd_verdict_batch *vb, size_t max_bytes)
{
	/* Plain verdicts must always fit an empty batch, or add would refuse
	 * forever. */
	vb->max_bytes = max_bytes < 2 * VD_VERDICT_MSG_MAX ? 2 * VD_VERDICT_MSG_MAX : max_bytes;
}

/* Whether the generated rules can carry v out: a connection decision is
 * accept, drop or reject, and a reject's answer one they know. */
static bool kernel_verdict_valid(struct vd_verdict v)
{
	if (v.kind == VD_VERDICT_REJECT && v.queue > VD_REJECT_WITH_MAX)
		return false;
	return !(v.flags & VD_VERDICT_F_CONNECTION) || v.kind == VD_VERDICT_ACCEPT ||
	       v.kind == VD_VERDICT_DROP || v.kind == VD_VERDICT_REJECT;
}

/* The kernel_mark.h code v (valid) asks the generated rules for;
 * VD_KMARK_NONE when v goes to the kernel as it is. */
static unsigned kernel_code(struct vd_verdict v)
{
	unsigned conn = (v.flags & VD_VERDICT_F_CONNECTION) ? VD_KMARK_CONN : 0;

	switch (v.kind) {
	case VD_VERDICT_ACCEPT:
		return conn ? conn | VD_KMARK_ACCEPT : VD_KMARK_NONE;
	case VD_VERDICT_DROP:
		return conn ? conn | VD_KMARK_DROP : VD_KMARK_NONE;
	case VD_VERDICT_REJECT:
		/* The REJECT_* codes follow enum vd_reject_with's order. */
		return (VD_KMARK_REJECT_PORT + v.queue) | conn;
	case VD_VERDICT_REPEAT:
		/* The loop guard: the packet goes on past verdictd's queue rule. */
		return VD_KMARK_PASS;
	default:
		return VD_KMARK_NONE;
	}
}

_Static_assert(VD_KMARK_REJECT_PORT + VD_REJECT_TCP_RESET == VD_KMARK_REJECT_RESET &&
	       VD_KMARK_REJECT_PORT + VD_REJECT_ADMIN_PROHIBITED == VD_KMARK_REJECT_ADMIN &&
	       VD_KMARK_REJECT_PORT + VD_REJECT_HOST_UNREACHABLE == VD_KMARK_REJECT_HOST,
	       "enum vd_reject_with and the kernel mark codes line up");

/* Without generated rules: a reject is a drop, a connection verdict the
 * packet's verdict alone. */
static struct vd_verdict without_kernel_rules(struct vd_verdict v)
{
	v.flags &= (uint8_t)~VD_VERDICT_F_CONNECTION;
	if (v.kind == VD_VERDICT_REJECT) {
		v.kind = VD_VERDICT_DROP;
		v.queue = 0;
	}
	return v;
}

bool vd_wire_verdict_from(struct vd_verdict v, uint32_t pkt_mark, uint32_t kernel_mark_mask,
			  struct vd_wire_verdict *out)
{
	uint32_t value = v.mark, mask = (v.flags & VD_VERDICT_F_MARK) ? v.mark_mask : 0;
	unsigned code;

	if (!kernel_verdict_valid(v))
		return false;
	if (kernel_mark_mask == 0)
		v = without_kernel_rules(v);
	code = kernel_mark_mask ? kernel_code(v) : VD_KMARK_NONE;
	if (code != VD_KMARK_NONE) {
		/* The field is verdictd's: the user's mark bits around it stay. */
		value = (value & ~kernel_mark_mask) | vd_kmark_value(kernel_mark_mask, code);
		mask |= kernel_mark_mask;
		v.kind = VD_VERDICT_REPEAT;
	}
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
	out->has_mark = mask != 0;
	out->mark = out->has_mark ? (pkt_mark & ~mask) | (value & mask) : 0;
	return true;
}

static bool wire_equal(const struct vd_wire_verdict *a, const struct vd_wire_verdict *b)
{
	return a->code == b->code && a->has_mark == b->has_mark && a->mark == b->mark;
}

/* Writes a verdict message for id at the end of the buffer. The caller
 * advances len (a payload verdict's nlmsg_len counts bytes not in buf). */
static struct nlmsghdr *put_verdict(struct vd_verdict_batch *vb, int type, uint32_t id,
				    const struct vd_wire_verdict *w)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put((char *)vb->buf + vb->len, type, vb->queue_num);

	nfq_nlmsg_verdict_put(nlh, (int)id, (int)w->code);
	if (w->has_mark)
		nfq_nlmsg_verdict_put_mark(nlh, w->mark);
	vb->nmsgs++;
	return nlh;
}

/* Writes the open run as one message: a batch verdict only when it covers
 * more than one packet, since a plain verdict is what the kernel handles
 * fastest for one. */
static void emit_run(struct vd_verdict_batch *vb)
{
	size_t len;

	if (vb->run_len == 0)
		return;
	/* Each packet adds at most one message of at most VD_VERDICT_MSG_MAX
	 * bytes and add() refuses more than max_packets, so the buffer from
	 * vd_verdict_batch_bufsize never overflows. */
	len = put_verdict(vb, vb->run_len > 1 ? NFQNL_MSG_VERDICT_BATCH : NFQNL_MSG_VERDICT,
			  vb->run_last_id, &vb->run)->nlmsg_len;
	vb->len += len;
	vb->wire_bytes += len;
	vb->run_len = 0;
}

/* Bytes the batch will send: what is written, and the open run's message,
 * not written yet. */
static size_t committed_bytes(const struct vd_verdict_batch *vb)
{
	return vb->wire_bytes + (vb->run_len ? VD_VERDICT_MSG_MAX : 0);
}

/* Adds id to the open run when fold allows and the verdict is the run's,
 * else opens a new run. */
static int add(struct vd_verdict_batch *vb, uint32_t id, const struct vd_wire_verdict *w, bool fold)
{
	if (vb->npackets >= vb->max_packets)
		goto full;
	if (vb->run_len > 0 && fold && wire_equal(&vb->run, w)) {
		vb->npackets++;
		vb->run_len++;
		vb->run_last_id = id;
		return 0;
	}
	/* A new run: its message is written later, so it is reserved now. */
	if (committed_bytes(vb) + VD_VERDICT_MSG_MAX > vb->max_bytes)
		goto full;
	vb->npackets++;
	emit_run(vb);
	vb->run = *w;
	vb->run_len = 1;
	vb->run_last_id = id;
	return 0;
full:
	errno = ENOSPC;
	return -1;
}

int vd_verdict_batch_add(struct vd_verdict_batch *vb, uint32_t id, const struct vd_wire_verdict *w)
{
	return add(vb, id, w, !vb->no_fold);
}

int vd_verdict_batch_add_lowest(struct vd_verdict_batch *vb, uint32_t id,
				const struct vd_wire_verdict *w)
{
	/* Above the run's last, modulo 2^32 as the kernel compares ids. */
	return add(vb, id, w, (int32_t)(id - vb->run_last_id) > 0);
}

/* Hot path: no allocation, no syscall, no copy of the packet. */
int vd_verdict_batch_add_payload(struct vd_verdict_batch *vb, uint32_t id,
				 const struct vd_wire_verdict *w, const uint8_t *payload,
				 uint32_t len)
{
	size_t msg_len = payload_msg_len(w, len), head_len = verdict_msg_len(w) + MNL_ATTR_HDRLEN;
	size_t pad = MNL_ALIGN(len) - len;
	struct nlmsghdr *nlh;
	struct nlattr *attr;

	if (len == 0 || len > VD_VERDICT_PAYLOAD_MAX || msg_len > vb->max_bytes) {
		errno = EMSGSIZE;
		return -1;
	}
	/* Closing this segment and the packet, then the last segment. */
	if (vb->npackets >= vb->max_packets || vb->niov + 3 > vb->max_iov ||
	    committed_bytes(vb) + msg_len > vb->max_bytes) {
		errno = ENOSPC;
		return -1;
	}
	vb->npackets++;
	vb->npayloads++;
	emit_run(vb);
	nlh = put_verdict(vb, NFQNL_MSG_VERDICT, id, w);
	attr = mnl_nlmsg_put_extra_header(nlh, MNL_ATTR_HDRLEN);
	attr->nla_type = NFQA_PAYLOAD;
	attr->nla_len = (uint16_t)(MNL_ATTR_HDRLEN + len);
	nlh->nlmsg_len += MNL_ALIGN(len); /* the packet and its padding follow */
	vb->len += head_len;
	vb->iov[vb->niov++] = (struct iovec){ vb->buf + vb->seg_start, vb->len - vb->seg_start };
	vb->iov[vb->niov++] = (struct iovec){ (void *)payload, len };
	vb->wire_bytes += msg_len;
	/* The padding opens the next segment, placed so that the next message
	 * starts 4-byte aligned in the buffer too (the bytes skipped before
	 * it are not sent). */
	vb->len += (MNL_ALIGNTO - pad) % MNL_ALIGNTO;
	vb->seg_start = vb->len;
	memset(vb->buf + vb->len, 0, pad);
	vb->len += pad;
	return 0;
}

void vd_verdict_batch_set_fold(struct vd_verdict_batch *vb, bool fold)
{
	if (!fold)
		emit_run(vb);
	vb->no_fold = !fold;
}

void vd_verdict_batch_break(struct vd_verdict_batch *vb)
{
	emit_run(vb);
}

size_t vd_verdict_batch_finish(struct vd_verdict_batch *vb, const struct iovec **iov,
			       unsigned *niov)
{
	unsigned n = vb->niov;

	emit_run(vb);
	/* Not counted in niov, so that finishing again gives the same. */
	if (vb->len > vb->seg_start)
		vb->iov[n++] = (struct iovec){ vb->buf + vb->seg_start, vb->len - vb->seg_start };
	*iov = vb->iov;
	*niov = n;
	return vb->wire_bytes;
}

void vd_verdict_batch_reset(struct vd_verdict_batch *vb)
{
	vb->len = 0;
	vb->seg_start = 0;
	vb->wire_bytes = 0;
	vb->niov = 0;
	vb->run_len = 0;
	vb->nmsgs = 0;
	vb->npackets = 0;
	vb->npayloads = 0;
}
