/*
 * fuzz_view.h - what every fuzz target asserts about a packet view: each
 * pointer lies inside the bytes it describes and the lengths agree. A broken
 * invariant aborts, so libFuzzer reports it like a crash and keeps the input.
 */
#ifndef VD_FUZZ_VIEW_H
#define VD_FUZZ_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <verdict/packet.h>

/* Where touched bytes go, so that the reads are not optimised away. */
extern volatile uint8_t fuzz_sink;

#define FUZZ_CHECK(cond) ((cond) ? (void)0 : fuzz_fail(#cond, __FILE__, __LINE__))

/* Prints the failed condition and aborts. */
_Noreturn void fuzz_fail(const char *cond, const char *file, int line);

/* Whether [p, p+n) lies within [lo, lo+lon); a NULL p with n 0 does. */
bool fuzz_within(const void *p, size_t n, const void *lo, size_t lon);

/* The parser's invariants on pkt: l3, src, dst, l4 and payload inside
 * data[0, caplen), lengths consistent, parse_error and flags agreeing.
 * parsed: vd_packet_parse ran on it, so parsing again must give the same
 * view. Reads every byte the view points at, so that AddressSanitizer sees a
 * pointer that leaves the buffer. */
void fuzz_view_check(const struct vd_packet *pkt, bool parsed);

/* The decoders' invariants: data and every metadata pointer (secctx,
 * prefix with its NUL, hw_header, l2_header) inside msg[0, len). */
void fuzz_view_check_meta(const struct vd_packet *pkt, const void *msg, size_t len);

#endif
