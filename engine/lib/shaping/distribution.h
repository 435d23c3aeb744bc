/*
 * distribution.h - delay samples as tc netem draws them: mu (the delay) and
 * sigma (the jitter), both in nanoseconds, and a distribution.
 *
 * uniform:      uniform over [mu - sigma, mu + sigma] (netem without a table)
 * normal:       mean mu, standard deviation sigma
 * pareto:       Pareto with shape 3, shifted and scaled to mean mu and
 *               standard deviation sigma (a long tail above mu)
 * paretonormal: 0.25 normal + 0.75 pareto, scaled to mean mu and standard
 *               deviation sigma, as netem's paretonormal table mixes them
 * A sample below zero is zero (a packet cannot leave before it came), so
 * with sigma near mu the mean is a little above mu. netem's correlation is
 * not offered. Samples take no lock and allocate nothing.
 */
#ifndef VD_SHAPING_DISTRIBUTION_H
#define VD_SHAPING_DISTRIBUTION_H

#include <stdint.h>

#include "rng.h"

enum vd_distribution {
	VD_DISTRIBUTION_UNIFORM,
	VD_DISTRIBUTION_NORMAL,
	VD_DISTRIBUTION_PARETO,
	VD_DISTRIBUTION_PARETONORMAL,
};

/* The distribution named name into *d: 0, or -1 for an unknown name. */
int vd_distribution_parse(const char *name, enum vd_distribution *d);

/* The name of d ("uniform", ...). */
const char *vd_distribution_name(enum vd_distribution d);

/* One delay in nanoseconds: never negative; mu when sigma is 0. */
uint64_t vd_distribution_sample(struct vd_rng *rng, enum vd_distribution d,
				uint64_t mu, uint64_t sigma);

#endif
