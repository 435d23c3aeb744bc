/*
 * rule_shape.c - a rule's shaping keys: reading, checking, printing
 * (rule_shape.h). Strings carry tc's units (units.h); bare numbers are in
 * base units: seconds, bits per second, bytes, a fraction.
 */
#include <math.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "rule.h"
#include "rule_shape.h"
#include "rule_values.h"

typedef int (*unit_fn)(const char *s, uint64_t *out, char *err, size_t errlen);

/* A time, rate or size at the top of the stack: a string with its unit, or
 * a number in base units times scale (1e9 for seconds -> ns). */
static int read_amount(struct loader *ld, unit_fn parse, double scale, double max,
		       const char *example, uint64_t *out)
{
	lua_State *L = ld->L;
	char why[160];
	const char *s;

	if (lua_type(L, -1) == LUA_TNUMBER) {
		double x = lua_tonumber(L, -1) * scale;

		if (!isfinite(x) || x < 0 || x > max)
			return vd_rule_fail(ld, "%g is out of range (0 to %g)", lua_tonumber(L, -1),
					    max / scale);
		*out = (uint64_t)(x + 0.5);
		return 0;
	}
	if (lua_type(L, -1) != LUA_TSTRING)
		return vd_rule_fail(ld, "expected a string like \"%s\", got %s", example,
				    luaL_typename(L, -1));
	if (!(s = vd_rule_text(ld, -1)))
		return -1;
	if (parse(s, out, why, sizeof(why)) < 0)
		return vd_rule_fail(ld, "%s", why);
	return 0;
}

/* A probability: "1%" or a number in [0, 1]. */
static int read_fraction(struct loader *ld, double *out)
{
	lua_State *L = ld->L;
	char why[160];
	const char *s;

	if (lua_type(L, -1) == LUA_TNUMBER) {
		*out = lua_tonumber(L, -1);
		if (!(*out >= 0.0 && *out <= 1.0))
			return vd_rule_fail(ld, "%g is not a probability (0 to 1, or \"1%%\")", *out);
		return 0;
	}
	if (lua_type(L, -1) != LUA_TSTRING)
		return vd_rule_fail(ld, "expected a percent like \"1%%\" or a number 0 to 1, got %s",
				    luaL_typename(L, -1));
	if (!(s = vd_rule_text(ld, -1)))
		return -1;
	if (vd_units_percent(s, out, why, sizeof(why)) < 0)
		return vd_rule_fail(ld, "%s", why);
	return 0;
}

/* loss = { model = "gemodel", p = , r = , h = , k = }: tc's defaults
 * r = 1 - p, h = 0, k = 1 for what is left out. */
static int read_gemodel(struct loader *ld, struct vd_loss *loss)
{
	static const char *const names[] = { "p", "r", "h", "k" };
	lua_State *L = ld->L;
	double v[4] = { -1, -1, 0, 1 };
	const char *key = ld->key;
	char sub[16];
	int ret = 0;

	if (vd_rule_plain_table(ld, -1) < 0)
		return -1;
	lua_pushnil(L);
	while (ret == 0 && lua_next(L, -2)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
		size_t i = 0;

		snprintf(sub, sizeof(sub), "loss.%s", k);
		ld->key = sub;
		if (strcmp(k, "model") == 0) {
			const char *m = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
			if (strcmp(m, "gemodel") != 0)
				ret = vd_rule_fail(ld, "unknown loss model (\"gemodel\"; a plain "
						   "loss = \"1%%\" is random loss)");
		} else {
			while (i < 4 && strcmp(k, names[i]) != 0)
				i++;
			ret = i < 4 ? read_fraction(ld, &v[i])
				    : vd_rule_fail(ld, "unknown key (model, p, r, h, k)");
		}
		lua_pop(L, 1);
	}
	if (ret < 0) {
		lua_pop(L, 1);
		return -1;
	}
	ld->key = key;
	lua_pushliteral(L, "model");
	if (lua_rawget(L, -2) == LUA_TNIL)
		ret = vd_rule_fail(ld, "needs model = \"gemodel\"");
	lua_pop(L, 1);
	if (ret == 0 && v[0] < 0)
		ret = vd_rule_fail(ld, "gemodel needs p (good to bad)");
	if (ret < 0)
		return -1;
	vd_loss_gemodel(loss, v[0], v[1] < 0 ? 1.0 - v[0] : v[1], v[2], v[3]);
	return 0;
}

static int read_per(struct loader *ld, enum vd_rule_shape_per *per)
{
	static const char *const names[] = { "rule", "flow", "src", "dst" };
	const char *s = lua_type(ld->L, -1) == LUA_TSTRING ? vd_rule_text(ld, -1) : NULL;

	for (size_t i = 0; s && i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return *per = (enum vd_rule_shape_per)i, 0;
	return vd_rule_fail(ld, "expected \"flow\", \"src\", \"dst\" or \"rule\"");
}

int vd_rule_shape_read(struct loader *ld, struct vd_rule *r, const char *k)
{
	struct vd_rule_shape *s = &r->shape;
	uint64_t n;

	if (strcmp(k, "delay") == 0)
		return s->keys |= VD_SHAPE_DELAY,
		       read_amount(ld, vd_units_time, 1e9, 3600e9, "20ms", &s->delay_ns);
	if (strcmp(k, "jitter") == 0)
		return s->keys |= VD_SHAPE_JITTER,
		       read_amount(ld, vd_units_time, 1e9, 3600e9, "5ms", &s->jitter_ns);
	if (strcmp(k, "rate") == 0) {
		s->keys |= VD_SHAPE_RATE;
		if (read_amount(ld, vd_units_rate, 1, 1e15, "10mbit", &s->rate_bps) < 0)
			return -1;
		return s->rate_bps ? 0 : vd_rule_fail(ld, "a rate must be at least 1bit");
	}
	if (strcmp(k, "burst") == 0)
		return s->keys |= VD_SHAPE_BURST,
		       read_amount(ld, vd_units_size, 1, 1099511627776.0, "32kb", &s->burst_bytes);
	if (strcmp(k, "distribution") == 0) {
		const char *name = lua_type(ld->L, -1) == LUA_TSTRING ? vd_rule_text(ld, -1) : NULL;

		s->keys |= VD_SHAPE_DISTRIBUTION;
		if (!name || vd_distribution_parse(name, &s->distribution) < 0)
			return vd_rule_fail(ld, "expected \"uniform\", \"normal\", \"pareto\" or "
					    "\"paretonormal\"");
		return 0;
	}
	if (strcmp(k, "loss") == 0) {
		double p;

		s->keys |= VD_SHAPE_LOSS;
		if (lua_istable(ld->L, -1))
			return read_gemodel(ld, &s->loss);
		if (read_fraction(ld, &p) < 0)
			return -1;
		vd_loss_bernoulli(&s->loss, p);
		return 0;
	}
	if (strcmp(k, "per") == 0)
		return s->keys |= VD_SHAPE_PER, read_per(ld, &s->per);
	if (strcmp(k, "limit") == 0) {
		s->keys |= VD_SHAPE_LIMIT;
		if (vd_rule_read_uint(ld, 1, VD_SHAPE_LIMIT_MAX, &n) < 0)
			return -1;
		s->limit = (uint32_t)n;
		return 0;
	}
	return 1;
}

int vd_rule_shape_check(struct loader *ld, const struct vd_rule *r)
{
	const struct vd_rule_shape *s = &r->shape;

	if (!s->keys)
		return 0;
	ld->key = NULL;
	if (strcmp(ld->list, "logs") == 0)
		return vd_rule_fail(ld, "logged packets cannot be delayed or dropped by shaping keys");
	if (r->action == VD_ACTION_VERDICT && r->verdict.kind == VD_VERDICT_DROP)
		return vd_rule_fail(ld, "shaping keys (delay, jitter, loss, rate, limit) need a verdict "
				    "that lets the packet go on: accept, repeat or queue");
	if ((s->keys & VD_SHAPE_JITTER) && !(s->keys & VD_SHAPE_DELAY))
		return vd_rule_fail(ld, "key \"jitter\" needs delay");
	if ((s->keys & VD_SHAPE_DISTRIBUTION) && !(s->keys & VD_SHAPE_JITTER))
		return vd_rule_fail(ld, "key \"distribution\" needs jitter");
	if (!(s->keys & VD_SHAPE_RATE) != !(s->keys & VD_SHAPE_BURST))
		return vd_rule_fail(ld, "keys \"rate\" and \"burst\" go together");
	if ((s->keys & VD_SHAPE_PER) && !(s->keys & VD_SHAPE_RATE))
		return vd_rule_fail(ld, "key \"per\" needs rate");
	if ((s->keys & VD_SHAPE_LIMIT) && !vd_rule_shape_delays(s))
		return vd_rule_fail(ld, "key \"limit\" needs delay or rate (it bounds held packets)");
	return 0;
}

bool vd_rule_shape_delays(const struct vd_rule_shape *s)
{
	return (s->keys & (VD_SHAPE_DELAY | VD_SHAPE_RATE)) != 0;
}

void vd_rule_shape_print(const struct vd_rule_shape *s, FILE *out)
{
	static const char *const pers[] = { "rule", "flow", "src", "dst" };
	char a[32], b[32];

	if (s->keys & VD_SHAPE_LOSS) {
		if (s->loss.model == VD_LOSS_GEMODEL)
			fprintf(out, " loss=gemodel(p=%g r=%g h=%g k=%g, %.4g%%)", s->loss.p, s->loss.r,
				s->loss.h, s->loss.k, 100.0 * vd_loss_rate(&s->loss));
		else
			fprintf(out, " loss=%g%%", 100.0 * s->loss.p);
	}
	if (s->keys & VD_SHAPE_LIMIT)
		fprintf(out, " limit=%u", s->limit);
	if (s->keys & VD_SHAPE_RATE) {
		vd_units_format_rate(s->rate_bps, a, sizeof(a));
		fprintf(out, " rate=%s burst=%llub per=%s", a, (unsigned long long)s->burst_bytes,
			pers[s->per]);
	}
	if (s->keys & VD_SHAPE_DELAY) {
		vd_units_format_time(s->delay_ns, a, sizeof(a));
		fprintf(out, " delay=%s", a);
	}
	if (s->keys & VD_SHAPE_JITTER) {
		vd_units_format_time(s->jitter_ns, b, sizeof(b));
		fprintf(out, " jitter=%s distribution=%s", b, vd_distribution_name(s->distribution));
	}
}
