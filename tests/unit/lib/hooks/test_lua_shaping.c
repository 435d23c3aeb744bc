/* test_lua_shaping.c - the sandbox's `shaping` library (lua_shaping.c): a
 * bucket's waits against its rate, seeded generators that repeat, the
 * distributions' means, Gilbert-Elliott against its stationary loss, bad
 * arguments named, and the library present at load time and in hooks. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua_fixture.h"

/* Calls function name of the file's table outside any hook (the load
 * budget still applies) and returns its number result; fails the test on
 * an error or a result that is not a number. */
static double number_from(const char *name)
{
	lua_State *L = vd_lua_state(vt_lua);
	int top = lua_gettop(L);
	double d;

	vd_lua_push_result(vt_lua);
	lua_getfield(L, -1, name);
	if (lua_pcall(L, 0, 1, 0) != LUA_OK)
		fail_msg("%s: %s", name, lua_tostring(L, -1));
	if (lua_type(L, -1) != LUA_TNUMBER)
		fail_msg("%s returned a %s, not a number", name, luaL_typename(L, -1));
	d = lua_tonumber(L, -1);
	lua_settop(L, top);
	return d;
}

/* Asserts that got is within tolerance (relative) of want. */
static void near(const char *what, double got, double want, double tolerance)
{
	if (!(fabs(got - want) <= tolerance * fabs(want)))
		fail_msg("%s: %.9g, want %.9g within %.2f%%", what, got, want, tolerance * 100);
}

/* 1 mbit/s with a 1500-byte burst: packets of 1250 bytes (10 ms of rate
 * each) called back to back each wait 10 ms more than the one before, the
 * first one and the burst's 250 spare bytes excepted; the test's own run
 * time (well under a millisecond per 1000 calls) is the only slack. */
static const char buckets[] =
	"local function last_wait(b, n)\n"
	"  local w\n"
	"  for i = 1, n do w = b:wait(1250) end\n"
	"  return w\n"
	"end\n"
	"local function limited()\n"
	"  local b = shaping.bucket{ rate = '1mbit', burst = '1250b', limit = '25ms' }\n"
	"  local n = 0\n"
	"  for i = 1, 10 do if b:wait(1250) then n = n + 1 end end\n"
	"  return n, b\n"
	"end\n"
	"local per_hook = shaping.bucket{ rate = '8mbit', burst = '1250b' }\n"
	"return {\n"
	"  strings = function()\n"
	"    return last_wait(shaping.bucket{ rate = '1mbit', burst = '1500b' }, 2000) end,\n"
	"  numbers = function()\n"
	"    return last_wait(shaping.bucket{ rate = 1e6, burst = 1500 }, 2000) end,\n"
	"  first = function() return shaping.bucket{ rate = '1mbit', burst = '10kb' }:wait(1500) end,\n"
	"  limited = function() return (limited()) end,\n"
	"  limited_debt = function() local _, b = limited() return b:wait(0) end,\n"
	"  held = function(pkt) return 'accept', { delay = per_hook:wait(1250) } end,\n"
	"}\n";

static void test_bucket_waits_for_its_rate(void **state)
{
	double expected = (2000.0 * 1250 - 1500) * 8 / 1e6;
	bool failed = true;
	struct vd_verdict v;
	uint64_t t0, between_us;

	(void)state;
	if (vt_lua_load(buckets, NULL) != 0)
		fail_msg("load: %s", vt_lua_err);
	near("last wait, units as strings", number_from("strings"), expected, 0.01);
	near("last wait, units as numbers", number_from("numbers"), expected, 0.01);
	assert_true(number_from("first") == 0);
	/* 25 ms of limit: the full bucket's one, then two that wait 10 and 20
	 * ms; every later one would wait 30 ms and is refused without taking
	 * tokens, so the count stops at 3 rather than creeping on. */
	assert_int_equal((int)number_from("limited"), 3);
	near("wait behind the 3 let through", number_from("limited_debt"), 0.020, 0.01);
	/* In a hook: the first packet empties the bucket, the second waits for
	 * 1250 bytes at 8 mbit/s (1250 us, less the microseconds between). */
	t0 = vt_lua_ms();
	vt_lua_verdict("held", &failed);
	assert_false(failed);
	v = vt_lua_verdict("held", &failed);
	assert_false(failed);
	between_us = (vt_lua_ms() - t0 + 1) * 1000;
	assert_true(v.kind == VD_VERDICT_ACCEPT && v.delay_us <= 1250);
	assert_true(v.delay_us + between_us >= 1250);
}

static const char generators[] =
	"local function sum(n, f) local s = 0 for i = 1, n do s = s + f() end return s end\n"
	"local function sequence(g) local t = {} for i = 1, 100 do t[i] = g:uniform() end\n"
	"  return table.concat(t, ',') end\n"
	"local N = 20000\n"
	"return {\n"
	"  same = function() return sequence(shaping.rng(42)) == sequence(shaping.rng(42))\n"
	"                     and 1 or 0 end,\n"
	"  differ = function() return sequence(shaping.rng(1)) ~= sequence(shaping.rng(2))\n"
	"                       and 1 or 0 end,\n"
	"  zero_seed = function() local g = shaping.rng(0) return g:uniform() ~= g:uniform()\n"
	"                          and 1 or 0 end,\n"
	"  uniform = function() local g = shaping.rng(7) return sum(N, function() return g:uniform() end) / N end,\n"
	"  chance = function() local g = shaping.rng(8)\n"
	"    return sum(100000, function() return g:chance(0.1) and 1 or 0 end) / 100000 end,\n"
	"  percent = function() local g = shaping.rng(9)\n"
	"    return sum(100000, function() return g:chance('25%') and 1 or 0 end) / 100000 end,\n"
	"  normal = function() local g = shaping.rng(10)\n"
	"    return sum(N, function() return g:normal(0.010, 0.002) end) / N end,\n"
	"  pareto = function() local g = shaping.rng(11)\n"
	"    return sum(N, function() return g:pareto(0.010, 0.002) end) / N end,\n"
	"  paretonormal = function() local g = shaping.rng(12)\n"
	"    return sum(N, function() return g:paretonormal(0.010, 0.002) end) / N end,\n"
	"  normal_sd = function() local g, s, s2 = shaping.rng(15), 0, 0\n"
	"    for i = 1, N do local x = g:normal(0.010, 0.002) s = s + x s2 = s2 + x * x end\n"
	"    return math.sqrt(s2 / N - (s / N) ^ 2) end,\n"
	"  no_jitter = function() return shaping.rng(13):normal(0.020, 0) end,\n"
	"  min = function() local g, m = shaping.rng(14), 1\n"
	"    for i = 1, N do m = math.min(m, g:normal(0.001, 0.002)) end return m end,\n"
	"}\n";

static void test_generators_repeat_and_distributions_hold(void **state)
{
	/* Means over 20,000 samples: within 5 standard errors (sigma / sqrt(N)
	 * is 1.4e-5 s for sigma 2 ms), chances within 5 binomial ones. */
	double se = 0.002 / sqrt(20000);

	(void)state;
	if (vt_lua_load(generators, NULL) != 0)
		fail_msg("load: %s", vt_lua_err);
	assert_true(number_from("same") == 1);
	assert_true(number_from("differ") == 1);
	assert_true(number_from("zero_seed") == 1);
	near("uniform mean", number_from("uniform"), 0.5, 5 * sqrt(1.0 / 12 / 20000) / 0.5);
	near("chance(0.1)", number_from("chance"), 0.1, 5 * sqrt(0.09 / 100000) / 0.1);
	near("chance('25%')", number_from("percent"), 0.25, 5 * sqrt(0.1875 / 100000) / 0.25);
	near("normal mean", number_from("normal"), 0.010, 5 * se / 0.010);
	near("pareto mean", number_from("pareto"), 0.010, 5 * se / 0.010);
	near("paretonormal mean", number_from("paretonormal"), 0.010, 5 * se / 0.010);
	/* sigma itself, which tells normal from uniform (sigma / sqrt 3) */
	near("normal's deviation", number_from("normal_sd"), 0.002, 0.03);
	near("normal without sigma", number_from("no_jitter"), 0.020, 1e-9);
	assert_true(number_from("min") == 0); /* clamped, never negative */
}

static const char channels[] =
	"local function rate(m, n) local lost = 0\n"
	"  for i = 1, n do if m:lose() then lost = lost + 1 end end return lost / n end\n"
	"local function sequence(m) local t = {} for i = 1, 200 do t[i] = m:lose() and 1 or 0 end\n"
	"  return table.concat(t) end\n"
	"return {\n"
	"  bursty = function() return rate(shaping.gemodel{ p = 0.01, r = 0.1, seed = 5 }, 200000) end,\n"
	"  bursty_rate = function() return shaping.gemodel{ p = 0.01, r = 0.1 }:rate() end,\n"
	"  lossy = function()\n"
	"    return rate(shaping.gemodel{ p = '2%', r = '20%', h = 0.5, k = 0.99, seed = 6 }, 200000) end,\n"
	"  bernoulli = function() return rate(shaping.gemodel{ p = 0.05, seed = 7 }, 100000) end,\n"
	"  same = function() return sequence(shaping.gemodel{ p = 0.1, r = 0.3, seed = 3 })\n"
	"    == sequence(shaping.gemodel{ p = 0.1, r = 0.3, seed = 3 }) and 1 or 0 end,\n"
	"}\n";

static void test_gemodel_meets_its_stationary_loss(void **state)
{
	(void)state;
	if (vt_lua_load(channels, NULL) != 0)
		fail_msg("load: %s", vt_lua_err);
	/* p (1 - h) / (p + r) with h = 0: 1/11. Losses come in bursts of mean
	 * 1/r = 10, so 200,000 draws hold about 1,800 bursts: 10% is over 4
	 * of their standard errors. */
	near("gemodel p=1% r=10%", number_from("bursty"), 1.0 / 11, 0.10);
	near("its rate()", number_from("bursty_rate"), 1.0 / 11, 1e-12);
	/* (r (1 - k) + p (1 - h)) / (p + r) = (0.002 + 0.01) / 0.22 */
	near("gemodel with h and k", number_from("lossy"), 0.012 / 0.22, 0.10);
	/* r = 1 - p, h = 0, k = 1: Bernoulli loss p, within 5 binomial errors. */
	near("gemodel p only", number_from("bernoulli"), 0.05, 5 * sqrt(0.0475 / 100000) / 0.05);
	assert_true(number_from("same") == 1);
}

static const char bad_arguments[] =
	"local function message(f, ...) local ok, err = pcall(f, ...) return ok and 'no error' or err end\n"
	"return {\n"
	"  no_rate = function() return message(shaping.bucket, { burst = '1kb' }) end,\n"
	"  no_burst = function() return message(shaping.bucket, { rate = '1mbit' }) end,\n"
	"  zero_rate = function() return message(shaping.bucket, { rate = 0, burst = 1 }) end,\n"
	"  bad_unit = function() return message(shaping.bucket, { rate = '1mbits', burst = 1 }) end,\n"
	"  bad_type = function() return message(shaping.bucket, { rate = true, burst = 1 }) end,\n"
	"  bucket_key = function() return message(shaping.bucket, { rate = 1, burst = 1, brust = 1 }) end,\n"
	"  negative = function() return message(function()\n"
	"    shaping.bucket{ rate = 1, burst = 1 }:wait(-1) end) end,\n"
	"  seed = function() return message(shaping.rng, 1.5) end,\n"
	"  mu = function() return message(function() shaping.rng(1):normal(-1, 0) end) end,\n"
	"  chance = function() return message(function() shaping.rng(1):chance(2) end) end,\n"
	"  p = function() return message(shaping.gemodel, { p = 1.5 }) end,\n"
	"  no_p = function() return message(shaping.gemodel, { r = 0.5 }) end,\n"
	"  ge_key = function() return message(shaping.gemodel, { p = 0.1, q = 1 }) end,\n"
	"  wrong_self = function() return message(function()\n"
	"    local g = shaping.rng(1) g.uniform(shaping.bucket{ rate = 1, burst = 1 }) end) end,\n"
	"  swap = function() return message(function()\n"
	"    getmetatable(shaping.rng(1)).__index = {} end) end,\n"
	"}\n";

/* Calls function name (which returns pcall's message) and checks want is
 * in it. */
static void expect_message(const char *name, const char *want)
{
	lua_State *L = vd_lua_state(vt_lua);
	int top = lua_gettop(L);

	vd_lua_push_result(vt_lua);
	lua_getfield(L, -1, name);
	if (lua_pcall(L, 0, 1, 0) != LUA_OK || !lua_isstring(L, -1))
		fail_msg("%s: did not return a message", name);
	if (!strstr(lua_tostring(L, -1), want))
		fail_msg("%s: \"%s\", want \"%s\"", name, lua_tostring(L, -1), want);
	lua_settop(L, top);
}

static void test_bad_arguments_are_named(void **state)
{
	(void)state;
	if (vt_lua_load(bad_arguments, NULL) != 0)
		fail_msg("load: %s", vt_lua_err);
	expect_message("no_rate", "shaping.bucket: needs rate");
	expect_message("no_burst", "shaping.bucket: needs burst");
	expect_message("zero_rate", "shaping.bucket: rate must be above 0");
	expect_message("bad_unit", "shaping.bucket: rate: ");
	expect_message("bad_type", "shaping.bucket: rate is a boolean");
	expect_message("bucket_key", "shaping.bucket: unknown option \"brust\" (rate, burst, limit)");
	expect_message("negative", "a packet size is not negative");
	expect_message("seed", "shaping.rng: seed is not a whole number");
	expect_message("mu", "mu of -1 s is not a delay");
	expect_message("chance", "rng:chance: p of 2 is not a probability");
	expect_message("p", "shaping.gemodel: p of 1.5 is not a probability");
	expect_message("no_p", "shaping.gemodel: needs p");
	expect_message("ge_key", "shaping.gemodel: unknown option \"q\"");
	expect_message("wrong_self", "verdict.shaping.rng expected");
	expect_message("swap", "attempt to index a string value");
}

/* The library is there at load time and in hooks, and its objects made at
 * load time keep their state from one hook call to the next. */
static void test_library_in_the_sandbox(void **state)
{
	bool failed = true;
	struct vd_verdict v;

	(void)state;
	if (vt_lua_load("assert(type(shaping) == 'table' and type(shaping.bucket) == 'function')\n"
			"local g = shaping.rng(1)\n"
			"return {\n"
			"  f = function()\n"
			"    assert(type(shaping.rng) == 'function' and type(shaping.gemodel) == 'function')\n"
			"    return 'accept', { delay = g:uniform() }\n"
			"  end,\n"
			"}\n",
			NULL) != 0)
		fail_msg("load: %s", vt_lua_err);
	v = vt_lua_verdict("f", &failed);
	assert_false(failed);
	assert_true(v.delay_us > 0 && v.delay_us < 1000000);
	assert_true(vt_lua_verdict("f", &failed).delay_us != v.delay_us);
	assert_false(failed);
}

/* A per-source shaping channel in one hook: a Gilbert-Elliott
 * channel and a limited bucket per source, then jitter. 3,000 packets of
 * 1,000 bytes from 3 sources: each source's bucket lets its first 32 kb
 * through at once and then, back to back, refuses what would wait past 100
 * ms, so every call succeeds and both kinds of drop happen. */
static void test_per_source_channel(void **state)
{
	unsigned dropped = 0, delayed = 0;
	bool failed = true;
	struct vd_verdict v;
	uint64_t t0, ms;

	(void)state;
	if (vt_lua_load("local rng = shaping.rng(42)\n"
			"local channels, n = {}, 0\n"
			"return { f = function(pkt)\n"
			"  n = n + 1\n"
			"  local src = n % 3\n"
			"  local c = channels[src]\n"
			"  if not c then\n"
			"    c = { loss = shaping.gemodel{ p = '1%', r = '10%',\n"
			"                                  seed = math.floor(rng:uniform() * 2^31) },\n"
			"          bucket = shaping.bucket{ rate = '2mbit', burst = '32kb', limit = '100ms' } }\n"
			"    channels[src] = c\n"
			"  end\n"
			"  if c.loss:lose() then return 'drop' end\n"
			"  local wait = c.bucket:wait(1000)\n"
			"  if not wait then return 'drop' end\n"
			"  return 'accept', { delay = wait + rng:normal(0.020, 0.005) }\n"
			"end }\n",
			NULL) != 0)
		fail_msg("load: %s", vt_lua_err);
	t0 = vt_lua_ms();
	for (int i = 0; i < 3000; i++) {
		v = vt_lua_verdict("f", &failed);
		assert_false(failed);
		dropped += v.kind == VD_VERDICT_DROP;
		delayed += v.kind == VD_VERDICT_ACCEPT && v.delay_us > 0;
	}
	ms = vt_lua_ms() - t0 + 1;
	/* Per source: 32 + 25 (100 ms at 2 mbit/s of 1000 bytes) let through,
	 * less what the channel lost first, plus the 250 a second the bucket
	 * refills while the loop runs (slow under a sanitizer). */
	if (!(delayed > 3 * 45 && delayed < 3 * (60 + ms / 4)))
		fail_msg("%u let through in %llu ms, want 135 to %llu", delayed,
			 (unsigned long long)ms, (unsigned long long)(3 * (60 + ms / 4)));
	assert_int_equal(dropped + delayed, 3000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_bucket_waits_for_its_rate, vt_lua_teardown),
		cmocka_unit_test_teardown(test_generators_repeat_and_distributions_hold,
					  vt_lua_teardown),
		cmocka_unit_test_teardown(test_gemodel_meets_its_stationary_loss, vt_lua_teardown),
		cmocka_unit_test_teardown(test_bad_arguments_are_named, vt_lua_teardown),
		cmocka_unit_test_teardown(test_library_in_the_sandbox, vt_lua_teardown),
		cmocka_unit_test_teardown(test_per_source_channel, vt_lua_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
