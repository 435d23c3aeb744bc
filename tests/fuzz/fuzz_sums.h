/*
 * fuzz_sums.h - a packet's checksums and length fields, computed by the fuzz
 * targets themselves (RFC 1071, independent of engine/lib/packet/checksum.c),
 * and what the packet editor's contract (verdict/edit.h) promises of them
 * after an edit. Used by the edit and hook targets.
 */
#ifndef VD_FUZZ_SUMS_H
#define VD_FUZZ_SUMS_H

#include <stdbool.h>
#include <stdint.h>

#include <verdict/edit.h>

/* How the L4 checksum field starts (edit.h's checksum special cases). */
enum fuzz_csum_mode {
	FUZZ_CSUM_FULL,    /* a finished checksum */
	FUZZ_CSUM_STALE,   /* CSUM_NOT_READY: computed in full by the first edit */
	FUZZ_CSUM_PARTIAL, /* CSUM_NOT_READY with KEEP_PARTIAL: the pseudo-header sum */
};

/* What the target knows of a packet's checksums, from a fresh parse. */
struct fuzz_sums {
	bool ip4_ok;       /* IPv4 header checksum verifies */
	bool verifiable;   /* a decoded TCP/UDP/ICMP/ICMPv6 header, not a fragment */
	bool l4_ok;        /* its checksum verifies (never when UDP's is 0) */
	bool partial_ok;   /* the field holds the folded pseudo-header sum */
	bool udp_zero;     /* UDP checksum field 0 */
	uint32_t ip_len;   /* IPv4 total length or IPv6 payload length field */
	uint32_t udp_len;  /* UDP length field, or 0 */
};

/* The sums of buf[0, len), parsed as a whole packet (GSO flag as given). */
struct fuzz_sums fuzz_sums_of(const uint8_t *buf, uint32_t len, bool gso);

/* After a successful edit of a packet whose sums were before: every checksum
 * that verified still does, an IPv4 UDP checksum of 0 stays 0, a stale one
 * verifies once something was edited, a kept partial sum stays right, and
 * the IP and UDP length fields moved by what the packet grew. Aborts
 * (FUZZ_CHECK) otherwise. */
void fuzz_sums_check(const struct vd_packet_edit *e, const struct fuzz_sums *before, bool gso,
		     enum fuzz_csum_mode mode);

#endif
