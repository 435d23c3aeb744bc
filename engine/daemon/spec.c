/* spec.c - parse "0-3,5"-style number lists for --queue and --cpus. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

/* Reads one decimal number at *p (no sign, no spaces), advancing *p. */
static int read_number(const char **p, unsigned max_value, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)**p))
		return -1;
	errno = 0;
	v = strtoul(*p, &end, 10);
	if (errno || v > max_value)
		return -1;
	*p = end;
	*out = (unsigned)v;
	return 0;
}

static int add_value(unsigned v, unsigned *out, size_t max_out, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		if (out[i] == v)
			return -1;
	if (*n >= max_out)
		return -2;
	out[(*n)++] = v;
	return 0;
}

/* Adds first..last; on failure writes why into err. */
static int add_range(unsigned first, unsigned last, unsigned *out, size_t max_out, size_t *n,
		     char *err, size_t errlen)
{
	for (unsigned v = first;; v++) {
		int r = add_value(v, out, max_out, n);

		if (r == -1) {
			snprintf(err, errlen, "%u is listed twice", v);
			return -1;
		}
		if (r == -2) {
			snprintf(err, errlen, "more than %zu values", max_out);
			return -1;
		}
		if (v == last)
			return 0;
	}
}

int vd_spec_parse(const char *spec, unsigned max_value, unsigned *out, size_t max_out, char *err,
		  size_t errlen)
{
	const char *p = spec;
	size_t n = 0;

	if (!spec || !*spec) {
		snprintf(err, errlen, "empty list");
		return -1;
	}
	for (;;) {
		const char *item = p;
		unsigned first, last;

		if (read_number(&p, max_value, &first) < 0)
			goto bad_item;
		last = first;
		if (*p == '-') {
			p++;
			if (read_number(&p, max_value, &last) < 0 || last < first)
				goto bad_item;
		}
		if (*p != ',' && *p != '\0')
			goto bad_item;
		if (add_range(first, last, out, max_out, &n, err, errlen) < 0)
			return -1;
		if (*p == '\0')
			return (int)n;
		p++;
		continue;
bad_item:
		snprintf(err, errlen, "\"%.*s\" at offset %zu is not a number or range from 0 to %u",
			 (int)strcspn(item, ","), item, (size_t)(item - spec), max_value);
		return -1;
	}
}
