/*
 * spec.h - number lists as users write them: "0-3", "0,2,5", "0-1,4".
 * Used for --queue and --cpus.
 */
#ifndef VD_SPEC_H
#define VD_SPEC_H

#include <stddef.h>

/* Parses spec into out (at most max_out values, each <= max_value), in the
 * order written; a value given twice is an error. Returns the count, or -1
 * with a one-line message in err (errlen bytes) naming the offending part. */
int vd_spec_parse(const char *spec, unsigned max_value, unsigned *out, size_t max_out, char *err,
		  size_t errlen);

#endif
