/*
 * bucket.c - the delaying token bucket (bucket.h), as a virtual time:
 * tokens at t are (burst_ns - (paid_ns - t)) nanoseconds of rate, capped at
 * burst_ns when paid_ns <= t. A packet costing c ns leaves at the first t
 * where that reaches c: t = paid_ns + c - burst_ns.
 */
#include "bucket.h"

/* bytes * 8e9 / rate without overflow: 128-bit intermediates. */
static uint64_t bytes_to_ns(uint64_t bytes, uint64_t rate_bps)
{
	unsigned __int128 ns = (unsigned __int128)bytes * 8u * 1000000000u / rate_bps;

	return ns > UINT64_MAX / 4 ? UINT64_MAX / 4 : (uint64_t)ns;
}

void vd_bucket_init(struct vd_bucket *b, uint64_t rate_bps, uint64_t burst_bytes)
{
	b->rate_bps = rate_bps ? rate_bps : 1;
	b->burst_ns = bytes_to_ns(burst_bytes, b->rate_bps);
	b->paid_ns = 0;
}

uint64_t vd_bucket_wait_ns(struct vd_bucket *b, uint64_t bytes, uint64_t now_ns)
{
	uint64_t cost = bytes_to_ns(bytes, b->rate_bps);
	uint64_t paid = b->paid_ns > now_ns ? b->paid_ns : now_ns;
	uint64_t leave = paid + cost > b->burst_ns ? paid + cost - b->burst_ns : 0;

	b->paid_ns = paid + cost;
	return leave > now_ns ? leave - now_ns : 0;
}
