/*
 * helpers.h - packet builders shared by the cmocka unit tests.
 *
 * A builder writes one packet as NFQUEUE hands it over (network header
 * first, no link layer) into a caller buffer and returns its length. With
 * zeroed spec structs the packet is valid; each field that is not zero makes
 * one thing different, so a test can break exactly one length at a time.
 * Checksums: the IPv4 header checksum is right, L4 checksums are left 0.
 * A builder fails the running cmocka test if the buffer is too small, so
 * call them only from inside a test.
 */
#ifndef VD_TEST_HELPERS_H
#define VD_TEST_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <verdict/packet.h>

/* Big enough for any packet the builders make with their size limits. */
#define VT_PACKET_MAX 4096

#define VT_IPV4_SRC "192.0.2.1"
#define VT_IPV4_DST "198.51.100.2"
#define VT_IPV6_SRC "2001:db8::1"
#define VT_IPV6_DST "2001:db8:ffff::2"

/* IPv4 flags-and-offset field bits (host order). */
#define VT_IPV4_DF 0x4000u
#define VT_IPV4_MF 0x2000u

/* The transport header and its payload. */
struct vt_l4 {
	uint8_t proto;           /* IPPROTO_TCP, UDP, ICMP, ICMPV6, SCTP; any
				  * other: the payload alone, no header */
	uint16_t sport, dport;   /* TCP, UDP, SCTP; host order */
	uint8_t tcp_flags;       /* enum vd_tcp_flag */
	uint8_t tcp_options_len; /* TCP: bytes of options, multiple of 4, <= 40 */
	uint8_t tcp_data_offset; /* TCP: 0 = computed; else written as is */
	int udp_len_adjust;      /* UDP: added to the correct length field */
	uint8_t icmp_type, icmp_code; /* ICMP and ICMPv6 */
	const void *payload;     /* NULL: payload_len bytes of a 0,1,2.. pattern */
	size_t payload_len;
};

struct vt_ipv4 {
	const char *src, *dst;   /* NULL: VT_IPV4_SRC, VT_IPV4_DST */
	uint8_t ttl;             /* 0: 64 */
	uint8_t options_len;     /* bytes of options, multiple of 4, <= 40 */
	uint8_t ihl;             /* 0: computed; else written as is */
	uint16_t fragment;       /* flags and offset field: VT_IPV4_MF | offset/8 */
	int total_len_adjust;    /* added to the correct total length field */
	size_t padding;          /* bytes after the datagram (link-layer padding) */
};

/* One IPv6 extension header. The next-header bytes are chained for you. */
struct vt_ext {
	uint8_t type;            /* IPPROTO_HOPOPTS, ROUTING, DSTOPTS, AH, FRAGMENT */
	uint16_t len;            /* bytes; 0: the type's smallest (8, AH 12);
				  * a multiple of 8 (AH: of 4); FRAGMENT: 8 */
	uint16_t frag_offset;    /* FRAGMENT: offset in 8-byte units */
	bool frag_more;          /* FRAGMENT: the M flag */
};

struct vt_ipv6 {
	const char *src, *dst;   /* NULL: VT_IPV6_SRC, VT_IPV6_DST */
	uint8_t hop_limit;       /* 0: 64 */
	const struct vt_ext *ext; /* n_ext headers between the fixed header and L4 */
	size_t n_ext;
	int payload_len_adjust;  /* added to the correct payload length field */
	bool jumbo;              /* payload length field 0 (RFC 2675) */
	size_t padding;          /* bytes after the datagram */
};

/* Writes IPv4 header (+ options) + l4 into buf; returns the bytes written.
 * ip may be NULL for all defaults. The protocol field is l4->proto. */
size_t vt_ipv4_build(uint8_t *buf, size_t size, const struct vt_ipv4 *ip,
		     const struct vt_l4 *l4);

/* Writes IPv6 header + extension headers + l4 into buf; returns the bytes
 * written. ip may be NULL for all defaults. The last next-header byte of the
 * chain is l4->proto. */
size_t vt_ipv6_build(uint8_t *buf, size_t size, const struct vt_ipv6 *ip,
		     const struct vt_l4 *l4);

/* The bytes the extension headers of ip take (the offset of L4 minus 40). */
size_t vt_ipv6_ext_len(const struct vt_ipv6 *ip);

/* vd_packet_view_init over data[0, caplen) of a len-byte packet, then
 * vd_packet_parse; returns its result. */
enum vd_parse_error vt_parse(struct vd_packet *pkt, const uint8_t *data, size_t caplen,
			     size_t len);

/* A malloc'd copy of exactly n bytes of src, so that AddressSanitizer
 * catches a read past n. The caller frees it. Fails the test on ENOMEM. */
uint8_t *vt_copy_exact(const uint8_t *src, size_t n);

/* ---- reference checksums ----
 * Written plainly, byte pair by byte pair, and sharing no code with
 * libverdict (engine/lib/packet/checksum.c), so that a test can check the
 * library against them. Packets are IPv4 or IPv6 as the builders make them. */

/* The RFC 1071 sum of n bytes at p taken as big-endian pairs (an odd last
 * byte padded with zero), added to sum; not folded. */
uint64_t vt_ref_sum(const uint8_t *p, size_t n, uint64_t sum);

/* The checksum field value for data summing to sum: ~fold(sum). */
uint16_t vt_ref_finish(uint64_t sum);

/* Where a packet's L4 checksum is. */
struct vt_l4_ref {
	size_t l4_off;   /* offset of the L4 header */
	size_t l4_len;   /* bytes from there to the end of the datagram */
	size_t csum_off; /* offset of the checksum field; 0: none */
	uint8_t proto;
	bool pseudo;     /* the sum covers the pseudo-header */
};

/* Finds the L4 header of the len-byte packet at p (IPv6 extension headers
 * walked) and its checksum field for TCP, UDP, ICMP (IPv4) and ICMPv6.
 * Returns false for anything else. */
bool vt_ref_l4_locate(const uint8_t *p, size_t len, struct vt_l4_ref *ref);

/* The L4 checksum the packet should carry, its field taken as 0 (UDP: a
 * result of 0 becomes 0xffff). Fails the test without one. */
uint16_t vt_ref_l4_checksum(const uint8_t *p, size_t len);

/* The folded pseudo-header sum alone, not complemented: what the field of a
 * CHECKSUM_PARTIAL (NFQA_SKB_CSUMNOTREADY) packet holds. */
uint16_t vt_ref_l4_partial(const uint8_t *p, size_t len);

/* Writes vt_ref_l4_checksum into the packet. */
void vt_l4_checksum_fill(uint8_t *p, size_t len);

/* The IPv4 header checksum of p, its field taken as 0. */
uint16_t vt_ref_ipv4_checksum(const uint8_t *p);

/* One NFQUEUE verdict message (NFQNL_MSG_VERDICT or _BATCH) as read back
 * from a verdict batch, for the tests of verdict folding. */
struct vt_verdict_msg {
	int type;        /* NFQNL_MSG_VERDICT or NFQNL_MSG_VERDICT_BATCH */
	uint16_t queue;
	uint32_t id, code;
	bool has_mark;
	uint32_t mark;
};

struct nlmsghdr;
void vt_verdict_msg_read(const struct nlmsghdr *nlh, struct vt_verdict_msg *m);

#endif
