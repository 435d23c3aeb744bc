/*
 * lua_shaping.c - the sandbox's `shaping` library (lua_shaping.h): Lua
 * objects over the shaping core's bucket, generator and loss model.
 *
 * Each object is one userdata holding the core's plain struct; methods
 * check it with luaL_checkudata and call the core, which takes no lock and
 * allocates nothing, so a method call costs what any C function call does.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>

#include <verdict/verdict.h>

#include "lua_shaping.h"
#include "shaping.h"

#define BUCKET_TYPE "verdict.shaping.bucket"
#define RNG_TYPE "verdict.shaping.rng"
#define GEMODEL_TYPE "verdict.shaping.gemodel"

/* The longest wait or delay a method returns, as a verdict can carry. */
#define MAX_SECONDS ((double)VD_VERDICT_MAX_DELAY_US / 1e6)

struct lua_bucket {
	struct vd_bucket bucket;
	uint64_t limit_ns; /* 0: no limit */
};

struct lua_gemodel {
	struct vd_loss loss;
	struct vd_rng rng;
};

/* --- arguments --- */

/* luaL_error with printf's formats (Lua's own lacks %g and precisions);
 * the message gets Lua's "where:" prefix as luaL_error's does. */
static int raise(lua_State *L, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	luaL_where(L, 1);
	lua_pushstring(L, msg);
	lua_concat(L, 2);
	return lua_error(L);
}

/* Names one argument in errors: "shaping.bucket: rate". */
struct arg {
	const char *fn, *key;
};

/* Parses the value at -1 with a unit parser when it is a string, or takes a
 * number in base units scaled by scale; raises an error naming fn and key
 * otherwise. */
static uint64_t unit_from(lua_State *L, struct arg a,
			  int (*parse)(const char *, uint64_t *, char *, size_t), double scale)
{
	char err[200];
	uint64_t out;
	lua_Number d;

	if (lua_type(L, -1) == LUA_TSTRING) {
		if (parse(lua_tostring(L, -1), &out, err, sizeof(err)) != 0)
			raise(L, "%s: %s: %s", a.fn, a.key, err);
		return out;
	}
	if (lua_type(L, -1) != LUA_TNUMBER)
		raise(L, "%s: %s is a %s, not a string with a unit or a number", a.fn, a.key,
			   luaL_typename(L, -1));
	d = lua_tonumber(L, -1) * scale;
	if (!(d >= 0 && d < 1.8e19)) /* NaN fails too */
		raise(L, "%s: %s of %g is out of range", a.fn, a.key, lua_tonumber(L, -1));
	return (uint64_t)(d + 0.5);
}

static int units_time(const char *s, uint64_t *out, char *err, size_t errlen)
{
	return vd_units_time(s, out, err, errlen);
}

static int units_rate(const char *s, uint64_t *out, char *err, size_t errlen)
{
	return vd_units_rate(s, out, err, errlen);
}

static int units_size(const char *s, uint64_t *out, char *err, size_t errlen)
{
	return vd_units_size(s, out, err, errlen);
}

/* A probability at stack index idx: a number in [0, 1] or a "1%" string. */
static double probability_at(lua_State *L, int idx, struct arg a)
{
	char err[200];
	double p;

	if (lua_type(L, idx) == LUA_TSTRING) {
		if (vd_units_percent(lua_tostring(L, idx), &p, err, sizeof(err)) != 0)
			raise(L, "%s: %s: %s", a.fn, a.key, err);
		return p;
	}
	if (lua_type(L, idx) != LUA_TNUMBER)
		raise(L, "%s: %s is a %s, not a probability (0 to 1, or \"1%%\")", a.fn, a.key,
			   luaL_typename(L, idx));
	p = lua_tonumber(L, idx);
	if (!(p >= 0 && p <= 1))
		raise(L, "%s: %s of %g is not a probability (0 to 1, or \"1%%\")", a.fn, a.key, p);
	return p;
}

/* A seed at -1: a whole number. */
static uint64_t seed_from(lua_State *L, const char *fn)
{
	int isnum;
	lua_Integer seed = lua_tointegerx(L, -1, &isnum);

	if (!isnum || lua_type(L, -1) != LUA_TNUMBER)
		raise(L, "%s: seed is not a whole number (a %s)", fn, luaL_typename(L, -1));
	return (uint64_t)seed;
}

/* The name of the key at -2 of the options table of fn; raises an error
 * when it is not a string. */
static const char *option_key(lua_State *L, const char *fn)
{
	if (lua_type(L, -2) != LUA_TSTRING)
		raise(L, "%s: option keys must be names, not %s", fn, luaL_typename(L, -2));
	return lua_tostring(L, -2);
}

static void *new_object(lua_State *L, size_t size, const char *type)
{
	void *p = lua_newuserdatauv(L, size, 0);

	memset(p, 0, size);
	luaL_setmetatable(L, type);
	return p;
}

/* --- shaping.bucket --- */

static int bucket_new(lua_State *L)
{
	static const char fn[] = "shaping.bucket";
	uint64_t rate = 0, burst = 0, limit = 0;
	bool has_rate = false, has_burst = false;
	struct lua_bucket *b;
	const char *k;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		k = option_key(L, fn);
		if (strcmp(k, "rate") == 0) {
			rate = unit_from(L, (struct arg){ fn, "rate" }, units_rate, 1);
			has_rate = true;
		} else if (strcmp(k, "burst") == 0) {
			burst = unit_from(L, (struct arg){ fn, "burst" }, units_size, 1);
			has_burst = true;
		} else if (strcmp(k, "limit") == 0) {
			limit = unit_from(L, (struct arg){ fn, "limit" }, units_time, 1e9);
			if (limit == 0)
				return raise(L, "%s: limit must be above 0", fn);
		} else {
			return raise(L, "%s: unknown option \"%s\" (rate, burst, limit)", fn, k);
		}
		lua_pop(L, 1);
	}
	if (!has_rate || !has_burst)
		return raise(L, "%s: needs %s (for example { rate = \"1mbit\", burst = "
				  "\"10kb\" })", fn, has_rate ? "burst" : "rate");
	if (rate == 0)
		return raise(L, "%s: rate must be above 0", fn);
	b = new_object(L, sizeof(*b), BUCKET_TYPE);
	vd_bucket_init(&b->bucket, rate, burst);
	b->limit_ns = limit;
	return 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* b:wait(n). With a limit, a refused packet must not take the tokens of
 * the packets after it: the bucket is put back as it was. */
static int bucket_wait(lua_State *L)
{
	struct lua_bucket *b = luaL_checkudata(L, 1, BUCKET_TYPE);
	lua_Integer n = luaL_checkinteger(L, 2);
	struct vd_bucket before = b->bucket;
	uint64_t wait;
	double s;

	luaL_argcheck(L, n >= 0, 2, "a packet size is not negative");
	wait = vd_bucket_wait_ns(&b->bucket, (uint64_t)n, now_ns());
	if (b->limit_ns && wait > b->limit_ns) {
		b->bucket = before;
		lua_pushnil(L);
		return 1;
	}
	s = (double)wait / 1e9;
	lua_pushnumber(L, s > MAX_SECONDS ? MAX_SECONDS : s);
	return 1;
}

/* --- shaping.rng --- */

static int rng_new(lua_State *L)
{
	bool seeded = !lua_isnoneornil(L, 1);
	uint64_t seed = 0;
	struct vd_rng *rng;

	if (seeded) {
		lua_settop(L, 1);
		seed = seed_from(L, "shaping.rng");
	}
	rng = new_object(L, sizeof(*rng), RNG_TYPE);
	if (seeded)
		vd_rng_seed(rng, seed);
	else
		vd_rng_seed_clock(rng);
	return 1;
}

static int rng_uniform(lua_State *L)
{
	lua_pushnumber(L, vd_rng_double(luaL_checkudata(L, 1, RNG_TYPE)));
	return 1;
}

static int rng_chance(lua_State *L)
{
	struct vd_rng *rng = luaL_checkudata(L, 1, RNG_TYPE);
	double p = probability_at(L, 2, (struct arg){ "rng:chance", "p" });

	lua_pushboolean(L, vd_rng_double(rng) < p);
	return 1;
}

/* mu or sigma of a delay distribution, in seconds, as nanoseconds. */
static uint64_t seconds_at(lua_State *L, int idx, const char *what)
{
	lua_Number s = luaL_checknumber(L, idx);

	if (!(s >= 0 && s <= MAX_SECONDS))
		raise(L, "%s of %g s is not a delay (0 to %.0f s)", what, s, MAX_SECONDS);
	return (uint64_t)(s * 1e9 + 0.5);
}

static int rng_sample(lua_State *L, enum vd_distribution d)
{
	struct vd_rng *rng = luaL_checkudata(L, 1, RNG_TYPE);
	uint64_t mu = seconds_at(L, 2, "mu"), sigma = seconds_at(L, 3, "sigma");

	lua_pushnumber(L, (double)vd_distribution_sample(rng, d, mu, sigma) / 1e9);
	return 1;
}

static int rng_normal(lua_State *L)
{
	return rng_sample(L, VD_DISTRIBUTION_NORMAL);
}

static int rng_pareto(lua_State *L)
{
	return rng_sample(L, VD_DISTRIBUTION_PARETO);
}

static int rng_paretonormal(lua_State *L)
{
	return rng_sample(L, VD_DISTRIBUTION_PARETONORMAL);
}

/* --- shaping.gemodel --- */

static int gemodel_new(lua_State *L)
{
	static const char fn[] = "shaping.gemodel";
	double p = -1, r = -1, h = 0, k = 1;
	bool seeded = false;
	uint64_t seed = 0;
	struct lua_gemodel *m;
	const char *key;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		key = option_key(L, fn);
		if (strcmp(key, "seed") == 0) {
			seed = seed_from(L, fn);
			seeded = true;
		} else if (strcmp(key, "p") == 0 || strcmp(key, "r") == 0 || strcmp(key, "h") == 0 ||
			   strcmp(key, "k") == 0) {
			double v = probability_at(L, -1, (struct arg){ fn, key });

			*(key[0] == 'p' ? &p : key[0] == 'r' ? &r : key[0] == 'h' ? &h : &k) = v;
		} else {
			return raise(L, "%s: unknown option \"%s\" (p, r, h, k, seed)", fn, key);
		}
		lua_pop(L, 1);
	}
	if (p < 0)
		return raise(L, "%s: needs p, the chance of going from good to bad", fn);
	m = new_object(L, sizeof(*m), GEMODEL_TYPE);
	vd_loss_gemodel(&m->loss, p, r < 0 ? 1 - p : r, h, k);
	if (seeded)
		vd_rng_seed(&m->rng, seed);
	else
		vd_rng_seed_clock(&m->rng);
	return 1;
}

static int gemodel_lose(lua_State *L)
{
	struct lua_gemodel *m = luaL_checkudata(L, 1, GEMODEL_TYPE);

	lua_pushboolean(L, vd_loss_drop(&m->loss, &m->rng));
	return 1;
}

static int gemodel_rate(lua_State *L)
{
	lua_pushnumber(L, vd_loss_rate(&((struct lua_gemodel *)luaL_checkudata(L, 1, GEMODEL_TYPE))->loss));
	return 1;
}

/* --- the library --- */

/* A metatable for type whose __index is methods; protected, so that a
 * script cannot swap the methods of every object of the state. */
static void register_type(lua_State *L, const char *type, const luaL_Reg *methods)
{
	luaL_newmetatable(L, type);
	lua_newtable(L);
	luaL_setfuncs(L, methods, 0);
	lua_setfield(L, -2, "__index");
	lua_pushstring(L, type);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);
}

void vd_lua_shaping_open(lua_State *L)
{
	static const luaL_Reg bucket_methods[] = { { "wait", bucket_wait }, { NULL, NULL } };
	static const luaL_Reg rng_methods[] = {
		{ "uniform", rng_uniform }, { "chance", rng_chance }, { "normal", rng_normal },
		{ "pareto", rng_pareto },   { "paretonormal", rng_paretonormal }, { NULL, NULL },
	};
	static const luaL_Reg gemodel_methods[] = {
		{ "lose", gemodel_lose }, { "rate", gemodel_rate }, { NULL, NULL },
	};
	static const luaL_Reg lib[] = {
		{ "bucket", bucket_new }, { "rng", rng_new }, { "gemodel", gemodel_new }, { NULL, NULL },
	};

	register_type(L, BUCKET_TYPE, bucket_methods);
	register_type(L, RNG_TYPE, rng_methods);
	register_type(L, GEMODEL_TYPE, gemodel_methods);
	luaL_newlib(L, lib);
	lua_setglobal(L, "shaping");
}
