/*
 * distribution.c - netem's delay distributions over a seeded generator
 * (distribution.h). Computed, not tabled: netem's tables are a kernel
 * constraint (no floating point there), and a computed sample repeats as
 * exactly under a seed.
 */
#include "distribution.h"

#include <math.h>
#include <string.h>

static const char *const names[] = {
	[VD_DISTRIBUTION_UNIFORM] = "uniform",
	[VD_DISTRIBUTION_NORMAL] = "normal",
	[VD_DISTRIBUTION_PARETO] = "pareto",
	[VD_DISTRIBUTION_PARETONORMAL] = "paretonormal",
};

int vd_distribution_parse(const char *name, enum vd_distribution *d)
{
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*d = (enum vd_distribution)i;
			return 0;
		}
	}
	return -1;
}

const char *vd_distribution_name(enum vd_distribution d)
{
	return (unsigned)d < sizeof(names) / sizeof(names[0]) ? names[d] : "?";
}

/* Standard normal, Box-Muller (one of the pair: keeping the other would
 * make the generator's state two-valued, harder to repeat by seed). */
static double standard_normal(struct vd_rng *rng)
{
	double u1 = 1.0 - vd_rng_double(rng); /* (0, 1]: log(u1) is finite */
	double u2 = vd_rng_double(rng);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* Pareto with shape a = 3 and scale 1 has mean 3/2 and standard deviation
 * sqrt(3)/2; standardized to mean 0, deviation 1. */
static double standard_pareto(struct vd_rng *rng)
{
	double u = 1.0 - vd_rng_double(rng); /* (0, 1] */
	double x = 1.0 / cbrt(u);

	return (x - 1.5) / (sqrt(3.0) / 2.0);
}

uint64_t vd_distribution_sample(struct vd_rng *rng, enum vd_distribution d,
				uint64_t mu, uint64_t sigma)
{
	double z;

	if (sigma == 0)
		return mu;
	switch (d) {
	case VD_DISTRIBUTION_NORMAL:
		z = standard_normal(rng);
		break;
	case VD_DISTRIBUTION_PARETO:
		z = standard_pareto(rng);
		break;
	case VD_DISTRIBUTION_PARETONORMAL:
		/* Var(0.25 N + 0.75 P) = 0.0625 + 0.5625 = 0.625. */
		z = (0.25 * standard_normal(rng) + 0.75 * standard_pareto(rng)) / sqrt(0.625);
		break;
	case VD_DISTRIBUTION_UNIFORM:
	default:
		z = 2.0 * vd_rng_double(rng) - 1.0;
		break;
	}
	double ns = (double)mu + z * (double)sigma;
	if (ns <= 0.0)
		return 0;
	if (ns >= 1.8e19)
		return UINT64_MAX;
	return (uint64_t)(ns + 0.5);
}
