/*
 * counters.h - single-writer counter blocks (a struct of uint64_t) shared by
 * queues and log groups: the owner counts a batch in a private delta and
 * publishes it once per batch; any thread reads the totals.
 *
 * Single writer: a relaxed load-add-store is exact and, unlike a locked add,
 * free on x86; readers see each counter whole (never torn), possibly one
 * batch old.
 */
#ifndef VD_COUNTERS_H
#define VD_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

/* Owner thread: total += delta, delta = 0, over n counters. Hot path. */
static inline void vd_counters_publish(uint64_t *total, uint64_t *delta, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (delta[i])
			__atomic_store_n(&total[i], total[i] + delta[i], __ATOMIC_RELAXED);
		delta[i] = 0;
	}
}

/* Any thread: a copy of the n totals. */
static inline void vd_counters_read(const uint64_t *total, uint64_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = __atomic_load_n(&total[i], __ATOMIC_RELAXED);
}

#endif
