/*
 * edit.h - rewriting a parsed packet in its own writable buffer, with every
 * length and checksum kept right after each call.
 *
 * Use: parse the packet (vd_packet_parse), vd_packet_edit_init over the same
 * buffer, then any number of vd_packet_edit_* calls. After each successful
 * call buf[0, edit.len) is a packet the kernel (or a capture file) can take
 * as is: IPv4 header checksum, IPv4 total length, IPv6 payload length, UDP
 * length and the TCP, UDP, ICMP and ICMPv6 checksums are right. Field edits
 * update checksums incrementally (RFC 1624); a payload edit that keeps the
 * length updates them incrementally over the changed bytes, one that changes
 * it recomputes the L4 checksum over the whole segment. The view stays in
 * step: its ttl, ports and tcp_flags are updated in place, and after a length
 * change it is parsed again (its pointers still point into buf).
 *
 * Refusals. Every call returns 0 or a negative errno, and then sets
 * edit.reason (enum vd_edit_reason; vd_packet_edit_reason_str names it for
 * the caller's message) and leaves the packet exactly as it was. A packet is
 * refused as a whole at init when it cannot be rewritten safely at all; a
 * single call is refused when the packet lacks that field or the result
 * would be wrong. Kernel limits the caller may also want to apply: a verdict
 * payload is one netlink attribute, so 65,531 bytes at most (pass a capacity
 * no larger); newer kernels (2026) also refuse a payload whose IPv4 options,
 * IPv6 extension headers or fragment fields other than DF differ from the
 * original: no call here changes them.
 *
 * Checksum special cases:
 * - IPv4 UDP with checksum 0 (sent without one) keeps 0 through every edit;
 *   a UDP checksum that computes to 0 is written 0xffff (RFC 768).
 * - IPv6 UDP with checksum 0 is invalid (RFC 8200 8.1): the first edit
 *   computes it in full.
 * - SCTP (CRC32c, no pseudo-header): address and IP-field edits need no L4
 *   change and are done; port and payload edits are refused
 *   (VD_EDIT_SCTP_CRC) rather than recomputing a CRC32c over the packet.
 * - UDP-Lite and DCCP (not decoded by the parser): address edits update
 *   their checksum (offset 6, pseudo-header) incrementally; nothing else of
 *   theirs can be edited.
 * - VD_PACKET_CSUM_NOT_READY (NFQA_SKB_CSUMNOTREADY, only with --gso): the
 *   L4 checksum field holds the uncomplemented pseudo-header sum and the
 *   kernel was to finish it (CHECKSUM_PARTIAL). But nfqnl_mangle() in
 *   net/netfilter/nfnetlink_queue.c sets ip_summed = CHECKSUM_NONE on every
 *   packet that comes back with a payload, so nobody finishes it any more:
 *   the receiver (or the next hop) would see a bad checksum. So by default
 *   the first edit of such a packet computes the complete L4 checksum, then
 *   clears CSUM_NOT_READY in the view and edits as usual. (A GSO TCP packet
 *   is fine either way: tcp4/6_gso_segment rebuilds the pseudo-header sum of
 *   a packet that is not CHECKSUM_PARTIAL.) For a consumer whose packet
 *   stays CHECKSUM_PARTIAL (a future kernel, a virtio-net header), the
 *   option VD_EDIT_KEEP_PARTIAL keeps the field a partial sum: edits of the
 *   pseudo-header (addresses, L4 length) update that plain sum, and edits of
 *   bytes the kernel sums later (ports, flags, options, payload) leave it.
 *
 * Hot path: no allocation, no syscall, no lock. Ownership: the caller owns
 * the buffer and the view; one thread uses an edit at a time.
 */
#ifndef VERDICT_EDIT_H
#define VERDICT_EDIT_H

#include <stdbool.h>
#include <stdint.h>

#include <verdict/packet.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The longest packet an edit produces: IPv4's total length field. */
#define VD_EDIT_MAX_LEN 65535u

/* vd_packet_edit.fields: what was edited, for records and JSON lines. */
enum vd_edit_field {
	VD_EDIT_TTL = 1u << 0,       /* IPv4 TTL or IPv6 hop limit */
	VD_EDIT_DSCP = 1u << 1,
	VD_EDIT_ECN = 1u << 2,
	VD_EDIT_SRC = 1u << 3,
	VD_EDIT_DST = 1u << 4,
	VD_EDIT_SPORT = 1u << 5,
	VD_EDIT_DPORT = 1u << 6,
	VD_EDIT_TCP_FLAGS = 1u << 7,
	VD_EDIT_MSS = 1u << 8,       /* the TCP MSS option was lowered */
	VD_EDIT_DF = 1u << 9,        /* IPv4 don't-fragment bit */
	VD_EDIT_PAYLOAD = 1u << 10,  /* L4 payload bytes (see length_changed) */
	VD_EDIT_FIELD_COUNT = 11
};

/* vd_packet_edit.reason: why the last call was refused. */
enum vd_edit_reason {
	VD_EDIT_OK = 0,
	VD_EDIT_INVALID,      /* -EINVAL: a bad argument (range, value, buffer) */
	VD_EDIT_MALFORMED,    /* -EBADMSG: the packet did not parse */
	VD_EDIT_TRUNCATED,    /* -ENODATA: cut short by the copy range */
	VD_EDIT_TOO_LONG,     /* -EMSGSIZE: result over 65,535 bytes */
	VD_EDIT_NO_ROOM,      /* -ENOBUFS: result over the buffer's capacity */
	VD_EDIT_FRAGMENT,     /* -EOPNOTSUPP: length or address change, or a full
			       * checksum, on an IP fragment */
	VD_EDIT_JUMBO,        /* -EFBIG: length change of a jumbogram/BIG TCP */
	VD_EDIT_NO_FIELD,     /* -ENOPROTOOPT: the packet has no such field */
	VD_EDIT_FAMILY,       /* -EAFNOSUPPORT: address of the other IP version */
	VD_EDIT_TCP_LENGTH,   /* -EPROTO: TCP payload length change needs the
			       * kernel's sequence adjustment (conntrack glue) */
	VD_EDIT_TCP_OPTIONS,  /* -EBADMSG: TCP options malformed */
	VD_EDIT_SCTP_CRC,     /* -EOPNOTSUPP: SCTP's CRC32c is not recomputed */
	VD_EDIT_UDP_LENGTH,   /* -EBADMSG: UDP length is not the IP payload's */
	VD_EDIT_REASON_COUNT
};

/* vd_packet_edit_init options. */
enum vd_edit_option {
	/* Keep a CSUM_NOT_READY packet's L4 field a partial sum (see above). */
	VD_EDIT_KEEP_PARTIAL = 1u << 0,
	/* Allow TCP payload length changes: the caller adjusts sequence
	 * numbers itself (tcp_length_delta says by how much). */
	VD_EDIT_TCP_LENGTH_OK = 1u << 1,
};

struct vd_packet_edit {
	struct vd_packet *pkt;  /* the view over buf, kept in step */
	uint8_t *buf;           /* == pkt->data, writable */
	uint32_t len;           /* the packet's current length */
	uint32_t capacity;      /* bytes writable at buf (tail room included) */
	uint32_t orig_len;      /* length at init */
	int32_t tcp_length_delta; /* TCP payload bytes added (< 0: removed) */
	uint32_t fields;        /* enum vd_edit_field, edited so far */
	uint8_t reason;         /* enum vd_edit_reason of the last refusal */
	uint8_t options;        /* enum vd_edit_option */
	bool discarded;         /* vd_packet_edit_discard: the edits are not sent */
	/* private to edit.c */
	uint8_t started;        /* prepare done, init's checks not yet */
	uint8_t l4_csum_state;
	uint8_t l4_csum_pseudo; /* the L4 checksum covers the pseudo-header */
	uint32_t l4_off;        /* offset of the L4 header in buf */
	uint32_t l4_csum_off;   /* offset of the L4 checksum field, 0: none */
};

/*
 * Starts an edit of pkt, a view that vd_packet_parse filled over buf (so
 * pkt->data == buf and the packet is pkt->caplen bytes), with capacity bytes
 * writable at buf. options: enum vd_edit_option. Returns 0, or a negative
 * errno with edit->reason: INVALID (pkt->data is not buf), NO_ROOM
 * (capacity below the packet), MALFORMED (a parse error), TRUNCATED (caplen < len: a
 * rewrite needs the whole packet, the kernel would cut the rest).
 */
int vd_packet_edit_init(struct vd_packet_edit *edit, struct vd_packet *pkt, uint8_t *buf,
			uint32_t capacity, unsigned options);

/*
 * The lazy form of vd_packet_edit_init, for the hot path: stores its
 * arguments and checks nothing, so a packet nobody edits costs a few stores.
 * The first vd_packet_edit_* call that writes (or reads the length) makes
 * init's checks and refuses as init would. This is what queues hand to an
 * edit callback (verdict/queue.h) and rule tables to hooks.
 */
void vd_packet_edit_prepare(struct vd_packet_edit *edit, struct vd_packet *pkt, uint8_t *buf,
			    uint32_t capacity, unsigned options);

/* True when edits were made and not discarded: the packet to send is
 * buf[0, len) instead of the original. */
static inline bool vd_packet_edit_pending(const struct vd_packet_edit *edit)
{
	return edit && edit->fields != 0 && !edit->discarded;
}

/* Forgets the edits: the original packet, still held by the kernel (or the
 * caller), is what goes on; buf keeps the edited bytes. For a verdict that
 * drops the packet, or an error after some edits were made. */
static inline void vd_packet_edit_discard(struct vd_packet_edit *edit)
{
	if (edit)
		edit->discarded = true;
}

/* IPv4 TTL or IPv6 hop limit. */
int vd_packet_edit_set_ttl(struct vd_packet_edit *edit, uint8_t ttl);
/* DSCP (0-63) and ECN (0-3): the traffic class byte, IPv4 and IPv6. */
int vd_packet_edit_set_dscp(struct vd_packet_edit *edit, uint8_t dscp);
int vd_packet_edit_set_ecn(struct vd_packet_edit *edit, uint8_t ecn);
/* IPv4 don't-fragment bit. IPv6: NO_FIELD. */
int vd_packet_edit_set_df(struct vd_packet_edit *edit, bool df);

/* Source or destination address, ip_version 4 (4 bytes at addr) or 6 (16),
 * network order; FAMILY when it is not the packet's. FRAGMENT on a fragment:
 * the other fragments would keep the old address and not reassemble. */
int vd_packet_edit_set_src(struct vd_packet_edit *edit, uint8_t ip_version,
			   const uint8_t *addr);
int vd_packet_edit_set_dst(struct vd_packet_edit *edit, uint8_t ip_version,
			   const uint8_t *addr);

/* Ports, host order: TCP and UDP (NO_FIELD for others; SCTP_CRC for SCTP). */
int vd_packet_edit_set_sport(struct vd_packet_edit *edit, uint16_t port);
int vd_packet_edit_set_dport(struct vd_packet_edit *edit, uint16_t port);

/* TCP flags: sets the bits of set, then clears those of clear (enum
 * vd_tcp_flag); a bit in both is INVALID. */
int vd_packet_edit_set_tcp_flags(struct vd_packet_edit *edit, uint8_t set, uint8_t clear);

/* Lowers the TCP MSS option to mss when it is larger; no option, or one not
 * larger, is not an error (nothing changes, fields stays as it was). Options
 * that run past the header or have a bad length: TCP_OPTIONS. */
int vd_packet_edit_clamp_mss(struct vd_packet_edit *edit, uint16_t mss);

/* Replaces L4 payload bytes [start, end) (offsets into pkt->payload, end at
 * most pkt->payload_len) with n bytes at bytes, which must not point into
 * the packet. Decoded protocols only: TCP, UDP, ICMP, ICMPv6 (NO_FIELD
 * otherwise). A length change moves what follows, and is refused on a
 * fragment, a jumbogram, over capacity or 65,535 bytes, and for TCP unless
 * VD_EDIT_TCP_LENGTH_OK. */
int vd_packet_edit_replace_payload(struct vd_packet_edit *edit, uint32_t start, uint32_t end,
				   const uint8_t *bytes, uint32_t n);

/* True once the packet's length differs from what it was at init. */
static inline bool vd_packet_edit_length_changed(const struct vd_packet_edit *edit)
{
	return edit->len != edit->orig_len;
}

/* "ttl", "dscp", ... for bit index bit of enum vd_edit_field (the rules
 * file's key names); NULL past the last. */
const char *vd_packet_edit_field_name(unsigned bit);

/* A short phrase for a refusal, for the caller's message. */
const char *vd_packet_edit_reason_str(enum vd_edit_reason reason);

#ifdef __cplusplus
}
#endif

#endif
