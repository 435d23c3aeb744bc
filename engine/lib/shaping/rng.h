/*
 * rng.h - the random number generator every shaping choice draws from:
 * xoshiro256** (Blackman and Vigna), seeded through splitmix64 so that any
 * 64-bit seed, 0 included, gives a well-mixed state.
 *
 * A generator belongs to one thread (a worker's rule, a Lua state): no lock,
 * no allocation. The same seed gives the same sequence on every machine.
 */
#ifndef VD_SHAPING_RNG_H
#define VD_SHAPING_RNG_H

#include <stdint.h>

struct vd_rng {
	uint64_t s[4];
};

/* Seeds rng from seed: the same seed, the same sequence. */
void vd_rng_seed(struct vd_rng *rng, uint64_t seed);

/* Seeds rng from CLOCK_MONOTONIC, CLOCK_REALTIME and the address of rng:
 * for files without `seed`, where no two runs should repeat. */
void vd_rng_seed_clock(struct vd_rng *rng);

/* The next 64 random bits. */
uint64_t vd_rng_next(struct vd_rng *rng);

/* A double uniform in [0, 1), 53 random bits. */
double vd_rng_double(struct vd_rng *rng);

#endif
