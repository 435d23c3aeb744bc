/* test_bucket.c - the delaying token bucket: the burst leaves at once, then
 * packets leave at the rate, within 1% over many packets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "bucket.h"

#define MS 1000000ull
#define S 1000000000ull

/* 1 mbit/s: a 1250-byte packet costs 10 ms of tokens. */
static void test_wait_times(void **state)
{
	struct vd_bucket b;
	uint64_t t0 = 5 * S;

	(void)state;
	vd_bucket_init(&b, 1000000, 2500);
	assert_int_equal(vd_bucket_wait_ns(&b, 1250, t0), 0);
	assert_int_equal(vd_bucket_wait_ns(&b, 1250, t0), 0);
	/* The burst is spent: the third waits one packet time, the fourth
	 * two (its departure queues behind the third's). */
	assert_int_equal(vd_bucket_wait_ns(&b, 1250, t0), 10 * MS);
	assert_int_equal(vd_bucket_wait_ns(&b, 1250, t0), 20 * MS);
	/* 15 ms later, the fourth's departure is 5 ms away, then 10 more. */
	assert_int_equal(vd_bucket_wait_ns(&b, 1250, t0 + 15 * MS), 15 * MS);
	/* After a long idle the bucket is full again, no fuller. */
	uint64_t t1 = t0 + 10 * S;
	assert_int_equal(vd_bucket_wait_ns(&b, 1250, t1), 0);
	assert_int_equal(vd_bucket_wait_ns(&b, 1250, t1), 0);
	assert_int_equal(vd_bucket_wait_ns(&b, 1250, t1), 10 * MS);
}

static void test_packet_larger_than_burst(void **state)
{
	struct vd_bucket b;

	(void)state;
	vd_bucket_init(&b, 8000, 100); /* 1000 bytes/s */
	/* 300 bytes with 100 in the bucket: 200 more take 200 ms. */
	assert_int_equal(vd_bucket_wait_ns(&b, 300, S), 200 * MS);
}

/* Offer 10 mbit/s packets to a 2 mbit/s bucket for a while: the departures
 * run at 2 mbit/s within 1%, and the first burst bytes left at once. */
static void test_rate_over_many_packets(void **state)
{
	struct vd_bucket b;
	const uint64_t rate = 2000000, burst = 32768, size = 1000;
	uint64_t now = 1 * S, last = 0, bytes = 0, immediate = 0;

	(void)state;
	vd_bucket_init(&b, rate, burst);
	for (int i = 0; i < 20000; i++) {
		uint64_t wait = vd_bucket_wait_ns(&b, size, now);
		uint64_t leave = now + wait;

		assert_true(leave >= last); /* departures keep their order */
		last = leave;
		if (wait == 0)
			immediate += size;
		bytes += size;
		now += size * 8 * S / 10000000; /* offered at 10 mbit/s */
	}
	/* While the burst drains at 10 mbit/s it refills at 2: 1.25 bursts
	 * leave at once. */
	assert_true(immediate >= burst * 5 / 4 - 2 * size && immediate <= burst * 5 / 4 + size);
	/* Everything but the burst, over the whole span. */
	double achieved = (double)(bytes - burst) * 8.0 / ((double)(last - 1 * S) / 1e9);
	assert_true(achieved > rate * 0.99 && achieved < rate * 1.01);
}

/* Bytes let through in any window never exceed burst + rate * window. */
static void test_burst_bound(void **state)
{
	struct vd_bucket b;
	const uint64_t rate = 1000000, burst = 10000;
	uint64_t leave[400];
	uint64_t now = S;

	(void)state;
	vd_bucket_init(&b, rate, burst);
	for (int i = 0; i < 400; i++) {
		leave[i] = now + vd_bucket_wait_ns(&b, 500, now);
		now += (i % 50 == 0) ? 100 * MS : 100000; /* bursts and pauses */
	}
	for (int i = 0; i < 400; i++) {
		for (int j = i; j < 400; j++) {
			double window = (double)(leave[j] - leave[i]) / 1e9;
			double allowed = burst + rate / 8.0 * window;
			assert_true((double)(j - i + 1) * 500 <= allowed + 1);
		}
	}
}

/* As tc tbf: a packet leaves when the tokens cover all of it, never on a
 * debt; a bucket one byte short of two packets lets one go, and the second
 * waits exactly for that byte (8 us at 1 mbit/s). */
static void test_no_departure_on_debt(void **state)
{
	struct vd_bucket b;

	(void)state;
	vd_bucket_init(&b, 1000000, 2499);
	assert_int_equal(vd_bucket_wait_ns(&b, 1250, S), 0);
	assert_int_equal(vd_bucket_wait_ns(&b, 1250, S), 8000);
	vd_bucket_init(&b, 1000000, 2500);
	assert_int_equal(vd_bucket_wait_ns(&b, 1250, S), 0);
	assert_int_equal(vd_bucket_wait_ns(&b, 1250, S), 0);
	assert_int_equal(vd_bucket_wait_ns(&b, 1, S), 8000);
}

static void test_huge_values(void **state)
{
	struct vd_bucket b;

	(void)state;
	/* 1 bit/s and a terabyte burst: no overflow, the burst still holds. */
	vd_bucket_init(&b, 1, 1099511627776ull);
	assert_int_equal(vd_bucket_wait_ns(&b, 65535, S), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait_times),
		cmocka_unit_test(test_packet_larger_than_burst),
		cmocka_unit_test(test_rate_over_many_packets),
		cmocka_unit_test(test_burst_bound),
		cmocka_unit_test(test_no_departure_on_debt),
		cmocka_unit_test(test_huge_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
