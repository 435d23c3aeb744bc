/*
 * rng.c - xoshiro256** seeded by splitmix64 (rng.h).
 */
#include "rng.h"

#include <stdint.h>
#include <time.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void vd_rng_seed(struct vd_rng *rng, uint64_t seed)
{
	/* splitmix64 never gives four zero words, the one state xoshiro
	 * cannot leave. */
	for (int i = 0; i < 4; i++)
		rng->s[i] = splitmix64(&seed);
}

void vd_rng_seed_clock(struct vd_rng *rng)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	uint64_t seed = (uint64_t)mono.tv_nsec ^ ((uint64_t)mono.tv_sec << 32) ^
			(uint64_t)real.tv_nsec * 0x9e3779b97f4a7c15ull ^
			(uint64_t)real.tv_sec ^ (uint64_t)(uintptr_t)rng;
	vd_rng_seed(rng, seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t vd_rng_next(struct vd_rng *rng)
{
	uint64_t *s = rng->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double vd_rng_double(struct vd_rng *rng)
{
	return (double)(vd_rng_next(rng) >> 11) * 0x1.0p-53;
}
