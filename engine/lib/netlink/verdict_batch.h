/*
 * verdict_batch.h - verdicts of one receive batch, folded into few messages.
 *
 * Packets arrive with increasing ids. A run of consecutive packets with the
 * same wire verdict becomes one NFQNL_MSG_VERDICT_BATCH message ("every
 * queued packet up to id X"), a lone packet one NFQNL_MSG_VERDICT; the
 * kernel applies the messages of one sendmsg in order, so a drop in the
 * middle of accepts splits the run correctly.
 *
 * Folding is only sound while no packet with a lower id is held back (a
 * batch verdict would catch it too). The engine never holds a packet past its
 * batch; a future delayed-verdict feature must end the run before any id it
 * holds (vd_verdict_batch_break).
 *
 * Ownership: the caller owns the buffer; one thread uses a batch.
 */
#ifndef VD_VERDICT_BATCH_H
#define VD_VERDICT_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <verdict/packet.h>
#include <verdict/verdict.h>

/* The verdict as the kernel sees it. */
struct vd_wire_verdict {
	uint32_t code;     /* NF_* with queue number and bypass flag folded in */
	uint32_t mark;     /* final mark value when has_mark */
	bool has_mark;
};

/* Upper bound of one verdict message (header, verdict, mark). */
#define VD_VERDICT_MSG_MAX 64

struct vd_verdict_batch {
	struct mnl_nlmsg_batch *msgs;
	uint16_t queue_num;
	/* The open run: run_len packets ending at run_last_id. */
	uint32_t run_len;
	uint32_t run_last_id;
	struct vd_wire_verdict run;
	unsigned nmsgs;      /* messages written */
	unsigned npackets;   /* verdicts added since the last reset */
	unsigned max_packets;
};

/* Buffer bytes needed for max_packets verdicts (libmnl wants twice the limit). */
static inline size_t vd_verdict_batch_bufsize(unsigned max_packets)
{
	return 2 * (size_t)(max_packets + 1) * VD_VERDICT_MSG_MAX;
}

/* Starts an empty batch over buf (vd_verdict_batch_bufsize(max_packets)
 * bytes). Returns 0, or -1 with errno ENOMEM. */
int vd_verdict_batch_init(struct vd_verdict_batch *vb, uint16_t queue_num, void *buf,
			  unsigned max_packets);
void vd_verdict_batch_free(struct vd_verdict_batch *vb);

/* Translates v for a packet whose current mark is pkt_mark. Returns false
 * when v is not a verdict the kernel knows (the caller substitutes one). */
bool vd_wire_verdict_from(struct vd_verdict v, uint32_t pkt_mark, struct vd_wire_verdict *out);

/* Adds the verdict of packet id. Returns 0, or -1 with errno ENOSPC when
 * max_packets verdicts were added since the last reset (send, reset, add
 * again). Hot path: no allocation, no syscall. */
int vd_verdict_batch_add(struct vd_verdict_batch *vb, uint32_t id, const struct vd_wire_verdict *w);

/* Ends the open run, so that no later message covers ids before this point. */
void vd_verdict_batch_break(struct vd_verdict_batch *vb);

/* Ends the open run and returns the messages to send (len 0: nothing). */
void vd_verdict_batch_finish(struct vd_verdict_batch *vb, const void **buf, size_t *len);

/* Empties the batch after its messages were sent. */
void vd_verdict_batch_reset(struct vd_verdict_batch *vb);

#endif
