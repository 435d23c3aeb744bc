/* micro.h - what vd-micro's row files share (micro.c). */
#ifndef VD_BENCH_MICRO_H
#define VD_BENCH_MICRO_H

#include <stdint.h>

typedef uint64_t (*round_fn)(void *arg, unsigned long n);

/* Results go here so that no round is optimized away. */
extern volatile uint64_t sink;

/* Best of three rounds of n packets (after a warm-up): ns per packet. */
double measure(round_fn fn, void *arg, unsigned long n);

/* Prints "row=ROW ns_per_packet=X pps=Y". */
void report(const char *row, double ns);

/* The rewrite rows (micro_rewrite.c), with rules_dir's rewrite_*.lua. */
void micro_rewrite_rows(const char *rules_dir, unsigned long n);

#endif
