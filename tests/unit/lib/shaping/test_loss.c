/* test_loss.c - Bernoulli loss within a binomial bound over 100,000 draws,
 * Gilbert-Elliott against its stationary loss and its burst length, the
 * same seed giving the same losses. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "loss.h"

#define DRAWS 100000

/* Lost count over DRAWS packets. */
static unsigned count_lost(struct vd_loss *l, uint64_t seed)
{
	struct vd_rng rng;
	unsigned lost = 0;

	vd_rng_seed(&rng, seed);
	for (int i = 0; i < DRAWS; i++)
		lost += vd_loss_drop(l, &rng);
	return lost;
}

/* |lost - n p| within 5 standard deviations of the binomial (a false
 * alarm about once in 1.7 million seeds). */
static void assert_binomial(unsigned lost, double p)
{
	double mean = DRAWS * p, sd = sqrt(DRAWS * p * (1 - p));

	assert_true(fabs((double)lost - mean) <= 5 * sd);
}

static void test_bernoulli(void **state)
{
	static const double ps[] = { 0.01, 0.10 };
	struct vd_loss l;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		for (uint64_t seed = 1; seed <= 5; seed++) {
			vd_loss_bernoulli(&l, ps[i]);
			assert_binomial(count_lost(&l, seed), ps[i]);
		}
	}
	vd_loss_bernoulli(&l, 0.0);
	assert_int_equal(count_lost(&l, 1), 0);
	vd_loss_bernoulli(&l, 1.0);
	assert_int_equal(count_lost(&l, 1), DRAWS);
}

static void test_gemodel_stationary(void **state)
{
	/* p, r, h, k */
	static const double m[][4] = {
		{ 0.01, 0.30, 0.0, 1.0 },   /* Gilbert: all lost in bad */
		{ 0.05, 0.50, 0.2, 0.99 },  /* Gilbert-Elliott */
		{ 0.10, 0.90, 0.0, 1.0 },   /* r = 1 - p: Bernoulli 10% */
	};
	struct vd_loss l;

	(void)state;
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		vd_loss_gemodel(&l, m[i][0], m[i][1], m[i][2], m[i][3]);
		double rate = vd_loss_rate(&l);
		unsigned lost = count_lost(&l, 42 + i);
		/* Losses come in bursts: allow twice the binomial's spread
		 * scaled by the mean burst length 1/r. */
		double sd = sqrt(DRAWS * rate * (1 - rate) / m[i][1]);
		assert_true(fabs((double)lost - DRAWS * rate) <= 5 * sd);
	}
	vd_loss_gemodel(&l, 0.01, 0.30, 0.0, 1.0);
	assert_true(fabs(vd_loss_rate(&l) - 0.01 / 0.31) < 1e-12);
}

/* With h = 0 and k = 1 a loss run lasts as long as the bad state: mean 1/r. */
static void test_gemodel_bursts(void **state)
{
	struct vd_loss l;
	struct vd_rng rng;
	unsigned runs = 0, lost = 0;
	bool prev = false;

	(void)state;
	vd_loss_gemodel(&l, 0.02, 0.25, 0.0, 1.0);
	vd_rng_seed(&rng, 7);
	for (int i = 0; i < DRAWS; i++) {
		bool d = vd_loss_drop(&l, &rng);
		lost += d;
		runs += d && !prev;
		prev = d;
	}
	double mean_run = (double)lost / runs;
	assert_true(mean_run > 3.6 && mean_run < 4.4);
}

static void test_same_seed_same_losses(void **state)
{
	struct vd_loss a, b;
	struct vd_rng ra, rb;
	int differ = 0;

	(void)state;
	vd_loss_gemodel(&a, 0.05, 0.5, 0.2, 0.99);
	vd_loss_gemodel(&b, 0.05, 0.5, 0.2, 0.99);
	vd_rng_seed(&ra, 1234);
	vd_rng_seed(&rb, 1234);
	for (int i = 0; i < DRAWS; i++)
		assert_int_equal(vd_loss_drop(&a, &ra), vd_loss_drop(&b, &rb));
	vd_loss_bernoulli(&a, 0.1);
	vd_loss_bernoulli(&b, 0.1);
	vd_rng_seed(&ra, 1234);
	vd_rng_seed(&rb, 1235);
	for (int i = 0; i < 1000; i++)
		differ += vd_loss_drop(&a, &ra) != vd_loss_drop(&b, &rb);
	assert_true(differ > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bernoulli),
		cmocka_unit_test(test_gemodel_stationary),
		cmocka_unit_test(test_gemodel_bursts),
		cmocka_unit_test(test_same_seed_same_losses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
