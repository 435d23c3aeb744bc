/*
 * units.c - tc's units (units.h). Each value is a finite, non-negative
 * number followed by a known unit; the result must fit its type.
 */
#include "units.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

struct unit {
	const char *name;
	double scale;
};

static const struct unit time_units[] = {
	{ "ns", 1 }, { "us", 1e3 }, { "usec", 1e3 }, { "usecs", 1e3 },
	{ "ms", 1e6 }, { "msec", 1e6 }, { "msecs", 1e6 },
	{ "s", 1e9 }, { "sec", 1e9 }, { "secs", 1e9 },
	{ NULL, 0 },
};

static const struct unit rate_units[] = {
	{ "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 }, { "gbit", 1e9 }, { "tbit", 1e12 },
	{ "kibit", 1024.0 }, { "mibit", 1048576.0 }, { "gibit", 1073741824.0 },
	{ "bps", 8 }, { "kbps", 8e3 }, { "mbps", 8e6 }, { "gbps", 8e9 },
	{ NULL, 0 },
};

static const struct unit size_units[] = {
	{ "b", 1 }, { "k", 1024.0 }, { "kb", 1024.0 }, { "m", 1048576.0 }, { "mb", 1048576.0 },
	{ "g", 1073741824.0 }, { "gb", 1073741824.0 },
	{ "kbit", 128.0 }, { "mbit", 131072.0 },
	{ NULL, 0 },
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* The number at the start of s into *x and its unit into *unit: 0, or -1
 * when s does not start with a finite non-negative decimal number. */
static int number(const char *s, double *x, const char **unit)
{
	const char *c = s;
	char *end;
	int dots = 0;

	/* Digits and at most one point, scanned first: strtod alone would
	 * take "inf", "nan", hex, exponents and leading blanks. */
	for (; isdigit((unsigned char)*c) || *c == '.'; c++)
		dots += *c == '.';
	if (c == s || dots > 1 || (c == s + 1 && *s == '.'))
		return -1;
	*x = strtod(s, &end);
	if (end != c || !isfinite(*x) || *x < 0)
		return -1;
	*unit = end;
	return 0;
}

static int scaled(const char *s, const struct unit *units, const char *what,
		  const char *names, double max, double *out, char *err, size_t errlen)
{
	double x;
	const char *unit;

	if (number(s, &x, &unit) < 0)
		return fail(err, errlen, "\"%s\" is not a %s (a number and a unit: %s)", s, what,
			    names);
	if (*unit == '\0')
		return fail(err, errlen, "\"%s\": a %s needs a unit (%s)", s, what, names);
	for (const struct unit *u = units; u->name; u++) {
		if (strcasecmp(unit, u->name) == 0) {
			x *= u->scale;
			if (x > max)
				return fail(err, errlen, "\"%s\": %s too large", s, what);
			*out = x;
			return 0;
		}
	}
	return fail(err, errlen, "\"%s\": unknown %s unit \"%s\" (%s)", s, what, unit, names);
}

int vd_units_time(const char *s, uint64_t *ns, char *err, size_t errlen)
{
	double x;

	/* An hour is far beyond any useful hold; the cap keeps sums safe. */
	if (scaled(s, time_units, "time", "ns, us, ms, s", 3600e9, &x, err, errlen) < 0)
		return -1;
	*ns = (uint64_t)(x + 0.5);
	return 0;
}

int vd_units_rate(const char *s, uint64_t *bps, char *err, size_t errlen)
{
	double x;

	if (scaled(s, rate_units, "rate", "bit, kbit, mbit, gbit, bps, kbps, mbps, gbps", 1e15,
		   &x, err, errlen) < 0)
		return -1;
	if (x < 1.0)
		return fail(err, errlen, "\"%s\": a rate must be at least 1bit", s);
	*bps = (uint64_t)(x + 0.5);
	return 0;
}

int vd_units_size(const char *s, uint64_t *bytes, char *err, size_t errlen)
{
	double x;

	if (scaled(s, size_units, "size", "b, kb, mb, gb", 1099511627776.0, &x, err,
		   errlen) < 0)
		return -1;
	*bytes = (uint64_t)(x + 0.5);
	return 0;
}

int vd_units_percent(const char *s, double *fraction, char *err, size_t errlen)
{
	double x;
	const char *unit;

	if (number(s, &x, &unit) < 0 || unit[0] != '%' || unit[1] != '\0')
		return fail(err, errlen, "\"%s\" is not a percent (\"1%%\", \"0.5%%\")", s);
	if (x > 100.0)
		return fail(err, errlen, "\"%s\": a percent is at most 100%%", s);
	*fraction = x / 100.0;
	return 0;
}

static void format_scaled(double x, const struct unit *pick, size_t n, char *buf, size_t len)
{
	size_t i = n - 1;

	while (i > 0 && x < pick[i].scale)
		i--;
	snprintf(buf, len, "%.6g%s", x / pick[i].scale, pick[i].name);
}

void vd_units_format_time(uint64_t ns, char *buf, size_t len)
{
	static const struct unit pick[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 } };

	format_scaled((double)ns, pick, 4, buf, len);
}

void vd_units_format_rate(uint64_t bps, char *buf, size_t len)
{
	static const struct unit pick[] = {
		{ "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 }, { "gbit", 1e9 }
	};

	format_scaled((double)bps, pick, 4, buf, len);
}
