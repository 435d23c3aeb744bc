/*
 * verdict_batch.h - verdicts of one receive batch, folded into few messages,
 * sent with one sendmsg.
 *
 * Packets arrive with increasing ids. A run of consecutive packets with the
 * same wire verdict becomes one NFQNL_MSG_VERDICT_BATCH message ("every
 * queued packet up to id X"), a lone packet one NFQNL_MSG_VERDICT; the
 * kernel applies the messages of one sendmsg in order, so a drop in the
 * middle of accepts splits the run correctly.
 *
 * A verdict that carries a rewritten packet (vd_verdict_batch_add_payload)
 * is always a NFQNL_MSG_VERDICT of its own, never part of a run: the open
 * run ends before it, so ids stay in order and no batch verdict covers it.
 * Its packet is not copied: the message header and the NFQA_PAYLOAD
 * attribute header go into the buffer, and the packet's bytes are spliced in
 * as an iovec of their own at send time; the attribute's padding (0-3 zero
 * bytes) starts the next buffer segment. The packet must stay where it is
 * (the receive slot) until the batch is sent.
 *
 * One sendmsg has limits: UIO_MAXIOV buffers, and netlink_sendmsg() refuses
 * more bytes than the socket's send buffer less 32 (vd_verdict_batch_set_
 * send_limit). An add that would pass either fails with ENOSPC: send, reset,
 * add again.
 *
 * Folding is only sound while no packet with a lower id is held back (a
 * batch verdict would catch it too). A queue that holds or awaits any packet
 * ends the open run before it holds (vd_verdict_batch_break) and turns folding
 * off (vd_verdict_batch_set_fold) until nothing is held: then every verdict is
 * a NFQNL_MSG_VERDICT of its own, still one sendmsg for all, except those
 * the caller adds with vd_verdict_batch_add_lowest (released verdicts below
 * every id still held).
 *
 * Ownership: the caller owns the buffer; one thread uses a batch.
 */
#ifndef VD_VERDICT_BATCH_H
#define VD_VERDICT_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <verdict/packet.h>
#include <verdict/verdict.h>

/* The verdict as the kernel sees it. */
struct vd_wire_verdict {
	uint32_t code;     /* NF_* with queue number and bypass flag folded in */
	uint32_t mark;     /* final mark value when has_mark */
	bool has_mark;
};

/* Upper bound of one verdict message in the buffer (header, verdict, mark,
 * and for a payload verdict the attribute header and the padding after the
 * packet). */
#define VD_VERDICT_MSG_MAX 64

/* The longest packet one verdict carries: NFQA_PAYLOAD's 16-bit attribute
 * length less its 4-byte header. */
#define VD_VERDICT_PAYLOAD_MAX (0xffffu - 4u)

/* Buffers one sendmsg takes at most (the kernel's UIO_MAXIOV). */
#define VD_VERDICT_BATCH_MAX_IOV 1024u

struct vd_verdict_batch {
	uint8_t *buf;        /* the messages (the caller's) */
	size_t len;          /* bytes written to buf */
	size_t seg_start;    /* where the open segment of buf begins */
	size_t wire_bytes;   /* bytes the messages written so far send */
	size_t max_bytes;    /* one sendmsg's limit */
	struct iovec *iov;   /* closed segments and packets, in order */
	unsigned niov, max_iov;
	uint16_t queue_num;
	/* The open run: run_len packets ending at run_last_id. */
	uint32_t run_len;
	uint32_t run_last_id;
	struct vd_wire_verdict run;
	unsigned nmsgs;      /* messages written */
	unsigned npackets;   /* verdicts added since the last reset */
	unsigned npayloads;  /* of them, verdicts carrying a packet */
	unsigned max_packets;
	bool no_fold;        /* every verdict a message of its own */
};

/* Buffer bytes needed for max_packets verdicts. */
static inline size_t vd_verdict_batch_bufsize(unsigned max_packets)
{
	return 2 * (size_t)(max_packets + 1) * VD_VERDICT_MSG_MAX;
}

/* Starts an empty batch over buf (vd_verdict_batch_bufsize(max_packets)
 * bytes, 4-byte aligned), without a byte limit. Returns 0, or -1 with errno
 * ENOMEM. */
int vd_verdict_batch_init(struct vd_verdict_batch *vb, uint16_t queue_num, void *buf,
			  unsigned max_packets);
void vd_verdict_batch_free(struct vd_verdict_batch *vb);

/* Sets the most bytes one send may hold (vd_nl_socket_send_limit); at
 * least two plain messages' worth is kept. */
void vd_verdict_batch_set_send_limit(struct vd_verdict_batch *vb, size_t max_bytes);

/* Translates v for a packet whose current mark is pkt_mark. With
 * kernel_mark_mask (a valid verdict/kernel_mark.h field: verdictd's
 * generated rules are loaded), verdicts the generated rules carry out go as
 * NF_REPEAT with their code in the field, the mark bits outside it merged as
 * for any mark:
 *   accept|drop + F_CONNECTION  -> repeat, field CONN|ACCEPT, CONN|DROP
 *   reject(with) [+ F_CONNECTION] -> repeat, field REJECT_<with> [|CONN]
 *   repeat                      -> repeat, field PASS (the loop guard)
 * and the rest as they are. With 0 (no generated rules), a reject is sent
 * as drop and F_CONNECTION is ignored. Returns false when v is not a
 * verdict the kernel can take (an unknown kind, F_CONNECTION on queue or
 * repeat, a reject's unknown answer): the caller substitutes one. Hot path:
 * no allocation, a few branches. */
bool vd_wire_verdict_from(struct vd_verdict v, uint32_t pkt_mark, uint32_t kernel_mark_mask,
			  struct vd_wire_verdict *out);

/* Adds the verdict of packet id. Returns 0, or -1 with errno ENOSPC when
 * the batch is full (max_packets verdicts since the last reset, or the send
 * limit): send, reset, add again. Hot path: no allocation, no syscall. */
int vd_verdict_batch_add(struct vd_verdict_batch *vb, uint32_t id, const struct vd_wire_verdict *w);

/* As vd_verdict_batch_add, but id joins the open run (same wire verdict, id
 * above the run's last) even with folding off, making the run a batch
 * verdict. The caller promises that every packet the kernel still queues
 * with an id below this one is in the open run or answered by an earlier
 * message of this batch, and that ids added after it are above it (a held
 * verdict released below every id still held or pending). Hot path. */
int vd_verdict_batch_add_lowest(struct vd_verdict_batch *vb, uint32_t id,
				const struct vd_wire_verdict *w);

/* Adds the verdict of packet id carrying len bytes at payload as the
 * packet's new content; payload is read at send time, not now. Returns 0,
 * or -1 with errno ENOSPC (full, as for vd_verdict_batch_add), EMSGSIZE
 * (len 0, above VD_VERDICT_PAYLOAD_MAX, or a message larger than the send
 * limit even alone: send the verdict without the payload). Hot path. */
int vd_verdict_batch_add_payload(struct vd_verdict_batch *vb, uint32_t id,
				 const struct vd_wire_verdict *w, const uint8_t *payload,
				 uint32_t len);

/* Folding on (the default) or off: off, each verdict added from now on is
 * a NFQNL_MSG_VERDICT of its own, so no message covers an id it does not
 * name. */
void vd_verdict_batch_set_fold(struct vd_verdict_batch *vb, bool fold);

/* Ends the open run, so that no later message covers ids before this point. */
void vd_verdict_batch_break(struct vd_verdict_batch *vb);

/* Ends the open run and gives the buffers to send in one sendmsg (*niov 0:
 * nothing). Returns their total length. Valid until the next add or reset;
 * calling it again gives the same. */
size_t vd_verdict_batch_finish(struct vd_verdict_batch *vb, const struct iovec **iov,
			       unsigned *niov);

/* Empties the batch after its messages were sent. */
void vd_verdict_batch_reset(struct vd_verdict_batch *vb);

#endif
