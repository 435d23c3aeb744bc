/*
 * queue_answer.h - what a queue does with one received datagram: every
 * packet message in it becomes a verdict in the batch, the callback's for a
 * packet that decodes, the fallback's for one that does not but whose id
 * can be read. With an edit callback, a packet rewritten in its receive slot
 * goes back in its verdict (read in place at send time). Knows messages,
 * views, edits and verdicts; nothing of sockets (the batch is sent by
 * queue.c).
 *
 * A verdict with a delay is held (hold.h) rather than added to the batch,
 * and a pending one remembered (pending.h); either turns folding off in the
 * batch, so that no batch verdict covers the held id. The owner turns it
 * back on when nothing is held or pending. Released verdicts below every id
 * still held or pending fold into batch verdicts all the same
 * (vd_queue_answer_release).
 *
 * Threading: the queue's thread only.
 */
#ifndef VD_QUEUE_ANSWER_H
#define VD_QUEUE_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <verdict/queue.h>

#include "hold.h"
#include "pending.h"
#include "verdict_batch.h"

struct vd_queue_answer {
	const struct vd_queue_config *cfg; /* callback, fallback, user */
	struct vd_verdict_batch *vb;       /* where verdicts go */
	struct vd_queue_stats *delta;      /* what is counted */
	/* Sends and resets vb when it is full (never, with batch sizing). */
	void (*flush)(void *owner);
	void *owner;
	struct vd_packet pkt;              /* reused for every packet */
	struct vd_packet_edit edit;        /* over pkt, for edit_callback */
	struct vd_hold *hold;              /* NULL: delays are ignored */
	struct vd_pending *pending;        /* NULL: pending is an invalid verdict */
	bool stopping;                     /* no new holds: everything goes at once */
};

/* Hot path: sends, holds or remembers v for packet id whose mark was
 * pkt_mark, as for a callback's verdict (without a rewritten packet). For
 * answers to pending packets and the answers at stop. */
void vd_queue_answer_verdict(struct vd_queue_answer *a, uint32_t id, struct vd_verdict v,
			     uint32_t pkt_mark);

/* The verdict for a packet nobody can answer any more: the fallback's, or
 * drop, without its delay. */
struct vd_verdict vd_queue_answer_fallback(const struct vd_queue_answer *a);

/* Hot path: puts in the batch the verdict of every hold due at now_ns (all
 * of them with UINT64_MAX, at stop, when no release error is counted), in
 * release order, counting each one's release error. A released verdict
 * whose id is below every id still held and pending joins the open run (a
 * batch verdict: with a constant delay, all of one wakeup's releases); any
 * other is a message of its own. Sends early through flush when the batch
 * fills. No allocation, no syscall (but flush). */
void vd_queue_answer_release(struct vd_queue_answer *a, uint64_t now_ns);

/* Hot path: the verdicts of the packet messages in buf[0, len). buf is the
 * start of a receive slot of room bytes (room >= len), all writable: a
 * packet may be rewritten and grow into the rest of the slot, and must stay
 * there until the batch is sent. truncated: the datagram was larger than its
 * slot, so only its first len bytes are there; its packet is answered by the
 * fallback when its id is among them. No allocation, no syscall (but flush). */
void vd_queue_answer_datagram(struct vd_queue_answer *a, uint8_t *buf, size_t len, size_t room,
			      bool truncated);

#endif
