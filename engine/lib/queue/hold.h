/*
 * hold.h - the verdicts a queue holds back until their release time: a FIFO
 * ring and a binary min-heap on (release time, arrival order), a bounded
 * pool of copies for rewritten packets (the receive slot is reused by the
 * next batch), and the histogram of release errors (actual minus scheduled
 * release).
 *
 * A hold whose release time and id are both at or above the ring's last goes
 * to the ring (a constant delay's every hold): O(1) both ways, and the ring's
 * head is its lowest id, which tells whether a release may be folded into a
 * batch verdict (vd_hold_all_above). Any other hold (jitter, a rate's
 * reorder, a pending packet answered late) goes to the heap, O(log n).
 *
 * Everything is allocated by vd_hold_init; adding, popping and recording
 * allocate nothing. A plain hold keeps 40 bytes: id, wire verdict, release
 * time; no packet bytes.
 *
 * Threading: the queue's thread only.
 */
#ifndef VD_HOLD_H
#define VD_HOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "verdict_batch.h"

/* Release errors in log buckets: exact below 16 ns, then 8 buckets per
 * power of two (at most 12.5% above the true value). */
#define VD_HOLD_HIST_BUCKETS (16 + 60 * 8)

struct vd_hold_entry {
	uint64_t release_ns;  /* CLOCK_MONOTONIC */
	uint64_t seq;         /* arrival order, for ties */
	uint32_t id;
	int32_t copy;         /* index in the copy pool, -1: no rewritten bytes */
	uint32_t copy_len;
	struct vd_wire_verdict wire;
};

struct vd_hold {
	/* In release and id order: a ring of fifo_mask + 1 entries in use (a
	 * power of two), in an array of the power of two at or above max. */
	struct vd_hold_entry *fifo;
	unsigned fifo_head, fifo_len, fifo_mask;
	/* The rest: a min-heap of max entries. */
	struct vd_hold_entry *heap;
	unsigned nheap;
	unsigned count, max;      /* count: fifo_len + nheap, at most max */
	uint64_t seq;
	/* Copies of rewritten packets: ncopies slots of copy_size bytes. */
	uint8_t *copies;
	uint32_t copy_size;
	int32_t *free_copies;     /* stack of free slots */
	unsigned nfree, ncopies;
	int32_t *sent_copies;     /* popped, read when the batch is sent */
	unsigned nsent;
	/* Totals for the stats. */
	uint64_t held_max, released, overflow;
	uint64_t hist[VD_HOLD_HIST_BUCKETS];
	uint64_t hist_count, error_max_ns;
};

/* Room for max holds and ncopies rewritten packets of up to copy_size
 * bytes (ncopies may be 0). Returns 0 or -1 with errno ENOMEM. */
int vd_hold_init(struct vd_hold *h, unsigned max, unsigned ncopies, uint32_t copy_size);
void vd_hold_free(struct vd_hold *h);

/* Holds the verdict w of packet id until release_ns; with payload (len > 0)
 * a copy of the rewritten packet goes with it. Returns 0, or -1 with errno
 * ENOSPC when the heap or the copy pool is full (the caller sends at once
 * and counts it in overflow), EMSGSIZE when len is above copy_size. Hot path:
 * no allocation, O(1) to the ring, O(log n) to the heap. */
int vd_hold_add(struct vd_hold *h, uint64_t release_ns, uint32_t id,
		const struct vd_wire_verdict *w, const uint8_t *payload, uint32_t len);

/* The earliest release time; false when nothing is held. */
bool vd_hold_next(const struct vd_hold *h, uint64_t *release_ns);

/* Pops the earliest hold into *out when its release time is at or before
 * now_ns. *payload (NULL without a copy) stays valid until vd_hold_recycle.
 * Hot path. */
bool vd_hold_pop(struct vd_hold *h, uint64_t now_ns, struct vd_hold_entry *out,
		 const uint8_t **payload);

/* Whether every id still held is above id (ids compared as the kernel does,
 * modulo 2^32); false also when that is not known at once (anything in the
 * heap). Hot path: O(1). */
bool vd_hold_all_above(const struct vd_hold *h, uint32_t id);

/* Returns the copies of popped holds to the pool: call after their verdicts
 * were sent. */
void vd_hold_recycle(struct vd_hold *h);

/* Counts a release error (actual minus scheduled, ns). Hot path. */
void vd_hold_record(struct vd_hold *h, uint64_t error_ns);

/* The release error at or below which a fraction per_mille/1000 of the
 * recorded ones lie (the upper bound of its bucket, at most the maximum);
 * 0 when none was recorded. */
uint64_t vd_hold_percentile(const struct vd_hold *h, unsigned per_mille);

#endif
