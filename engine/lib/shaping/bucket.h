/*
 * bucket.h - a token bucket that delays rather than drops (tc tbf's shape,
 * without its queue limit): rate in bits per second, burst in bytes.
 *
 * The bucket starts full. A packet that finds enough tokens leaves at once;
 * otherwise it is given the time its tokens will have accrued, and that
 * departure is reserved: the next packet queues behind it. Over any span the
 * bytes let through are at most burst + rate * span / 8.
 *
 * Kept as one virtual time (the instant the bucket's debt is paid), so a
 * packet costs a few integer operations: no lock, no allocation. A bucket
 * belongs to one thread.
 */
#ifndef VD_SHAPING_BUCKET_H
#define VD_SHAPING_BUCKET_H

#include <stdint.h>

struct vd_bucket {
	uint64_t rate_bps;   /* bits per second, > 0 */
	uint64_t burst_ns;   /* the burst, in nanoseconds of rate */
	uint64_t paid_ns;    /* when every reserved token has accrued; 0: full */
};

/* A full bucket of rate bits/s (> 0) and burst bytes. */
void vd_bucket_init(struct vd_bucket *b, uint64_t rate_bps, uint64_t burst_bytes);

/* How long (ns) a packet of bytes arriving at now_ns (CLOCK_MONOTONIC) must
 * wait before it leaves; reserves that departure. now_ns must not go back
 * in time between calls on one bucket. */
uint64_t vd_bucket_wait_ns(struct vd_bucket *b, uint64_t bytes, uint64_t now_ns);

#endif
