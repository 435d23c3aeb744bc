/* test_distribution.c - the generator (same seed, same sequence) and
 * netem's delay distributions: mean, spread, range, never negative. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "distribution.h"
#include "rng.h"

#define N 200000
#define MS 1000000ull

static void test_rng_repeats(void **state)
{
	struct vd_rng a, b, c;
	int same = 0;

	(void)state;
	vd_rng_seed(&a, 99);
	vd_rng_seed(&b, 99);
	vd_rng_seed(&c, 100);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = vd_rng_next(&a);
		assert_int_equal(x, vd_rng_next(&b));
		same += x == vd_rng_next(&c);
	}
	assert_int_equal(same, 0);
	/* Seed 0 is a seed like any other (not the all-zero state). */
	vd_rng_seed(&a, 0);
	assert_true(vd_rng_next(&a) != 0 || vd_rng_next(&a) != 0);
	for (int i = 0; i < 1000; i++) {
		double d = vd_rng_double(&a);
		assert_true(d >= 0.0 && d < 1.0);
	}
	/* Two clock seeds differ. */
	vd_rng_seed_clock(&a);
	vd_rng_seed_clock(&b);
	assert_true(memcmp(&a, &b, sizeof(a)) != 0);
}

static void moments(enum vd_distribution d, uint64_t mu, uint64_t sigma, double *mean,
		    double *sd, uint64_t *lo, uint64_t *hi)
{
	struct vd_rng rng;
	double sum = 0, sq = 0;

	vd_rng_seed(&rng, 5);
	*lo = UINT64_MAX;
	*hi = 0;
	for (int i = 0; i < N; i++) {
		uint64_t x = vd_distribution_sample(&rng, d, mu, sigma);
		sum += (double)x;
		sq += (double)x * (double)x;
		*lo = x < *lo ? x : *lo;
		*hi = x > *hi ? x : *hi;
	}
	*mean = sum / N;
	*sd = sqrt(sq / N - *mean * *mean);
}

static void test_uniform(void **state)
{
	double mean, sd;
	uint64_t lo, hi;

	(void)state;
	moments(VD_DISTRIBUTION_UNIFORM, 20 * MS, 5 * MS, &mean, &sd, &lo, &hi);
	assert_true(lo >= 15 * MS && hi <= 25 * MS);
	assert_true(lo < 15 * MS + 10000 && hi > 25 * MS - 10000);
	assert_true(fabs(mean - 20e6) < 0.01 * 20e6);
	assert_true(fabs(sd - 5e6 / sqrt(3.0)) < 0.02 * 5e6 / sqrt(3.0));
}

static void test_centered(void **state)
{
	static const enum vd_distribution ds[] = {
		VD_DISTRIBUTION_NORMAL, VD_DISTRIBUTION_PARETO, VD_DISTRIBUTION_PARETONORMAL,
	};
	double mean, sd;
	uint64_t lo, hi;

	(void)state;
	/* sigma well below mu: clamping at 0 does not bend the moments. */
	for (size_t i = 0; i < 3; i++) {
		moments(ds[i], 50 * MS, 5 * MS, &mean, &sd, &lo, &hi);
		assert_true(fabs(mean - 50e6) < 0.01 * 50e6);
		/* Pareto's variance converges slowly (shape 3): wider bound. */
		assert_true(fabs(sd - 5e6) < (ds[i] == VD_DISTRIBUTION_NORMAL ? 0.02 : 0.15) * 5e6);
	}
	/* Pareto's tail is above mu: its median is below the mean. */
	moments(VD_DISTRIBUTION_PARETO, 50 * MS, 5 * MS, &mean, &sd, &lo, &hi);
	assert_true(lo >= 50 * MS - 5 * MS * 0.58 - 1000);
	assert_true(hi > 50 * MS + 5 * 5 * MS);
}

static void test_never_negative(void **state)
{
	struct vd_rng rng;
	unsigned zero = 0;

	(void)state;
	vd_rng_seed(&rng, 3);
	for (int i = 0; i < N; i++) {
		uint64_t x = vd_distribution_sample(&rng, VD_DISTRIBUTION_NORMAL, 1 * MS, 10 * MS);
		assert_true(x < 100 * MS); /* a wrapped negative would be huge */
		zero += x == 0;
	}
	assert_true(zero > N / 3); /* about 46% of N(1, 10) is below 0 */
	assert_int_equal(vd_distribution_sample(&rng, VD_DISTRIBUTION_PARETO, 7, 0), 7);
}

static void test_names(void **state)
{
	enum vd_distribution d;

	(void)state;
	assert_int_equal(vd_distribution_parse("paretonormal", &d), 0);
	assert_int_equal(d, VD_DISTRIBUTION_PARETONORMAL);
	assert_string_equal(vd_distribution_name(VD_DISTRIBUTION_NORMAL), "normal");
	assert_int_equal(vd_distribution_parse("gauss", &d), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rng_repeats),   cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_centered),      cmocka_unit_test(test_never_negative),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
