/*
 * units.h - tc's units, read from strings: times, rates, sizes, percents.
 *
 *   time:    "20ms", "1.5s", "250us", "100ns" (also tc's "sec", "msec",
 *            "usec", "secs", "msecs", "usecs")
 *   rate:    "10mbit", "1.5gbit", "800kbit", "64bit" (1000-based, as tc);
 *            "kibit", "mibit", "gibit" (1024-based); "bps", "kbps", "mbps",
 *            "gbps" are BYTES per second, as tc reads them
 *   size:    "1500b", "32kb", "2mb", "1gb" (1024-based, as tc: "k", "m",
 *            "g" alone too); "kbit", "mbit" are bits
 *   percent: "1%", "0.5%" -> a fraction in [0, 1]
 * Units are case-insensitive. A string must carry its unit: tc reads a
 * bare "20" as 20 microseconds but a bare rate as bits and a bare size as
 * bytes, and a rules file's reader should not have to remember which.
 * Bare Lua numbers are read by the callers in base units (seconds, bits
 * per second, bytes, a fraction).
 *
 * Each parser returns 0, or -1 after writing one line naming the value to
 * err (errlen bytes, may be 0).
 */
#ifndef VD_SHAPING_UNITS_H
#define VD_SHAPING_UNITS_H

#include <stddef.h>
#include <stdint.h>

int vd_units_time(const char *s, uint64_t *ns, char *err, size_t errlen);
int vd_units_rate(const char *s, uint64_t *bps, char *err, size_t errlen);
int vd_units_size(const char *s, uint64_t *bytes, char *err, size_t errlen);
int vd_units_percent(const char *s, double *fraction, char *err, size_t errlen);

/* Writes ns as "20ms", "1.5s", "250us" (the largest exact-enough unit). */
void vd_units_format_time(uint64_t ns, char *buf, size_t len);

/* Writes bps as "10mbit", "1.5gbit", ... */
void vd_units_format_rate(uint64_t bps, char *buf, size_t len);

#endif
