/*
 * parse.c - decodes the IP and transport headers of a packet view in place.
 *
 * The checks run in Suricata's decoder order (too short, version, header
 * length, total length, truncated) so that parse_error names the first thing
 * wrong with a packet. Two lengths are kept apart throughout: what was
 * captured (caplen) and what was on the wire (len). A header that runs past
 * the wire length is malformed; one that runs only past the capture is a cut
 * made by the queue's copy range, reported with VD_PACKET_TRUNCATED.
 *
 * Which fields are valid after an error: on an IP header error, none. On an
 * IPv6 extension header error, those of the fixed IPv6 header (ip_version,
 * ttl, l3, l3_len, src, dst) and of the headers walked so far. On an L4
 * error, every L3 field including l4_proto, and no L4 field.
 */
#include <stddef.h>
#include <netinet/in.h>

#include <verdict/packet.h>

#include "export.h"

/* Flags set from kernel metadata by the message decoder, not by us. */
#define PARSE_KERNEL_FLAGS (VD_PACKET_GSO | VD_PACKET_CSUM_NOT_READY)

#define IPV4_HEADER_MIN 20u
#define IPV6_HEADER_LEN 40u
#define IPV6_FRAGMENT_HEADER_LEN 8u
#define TCP_HEADER_MIN 20u
#define UDP_HEADER_LEN 8u
#define ICMP_TYPE_CODE_LEN 4u
#define ICMP_HEADER_LEN 8u
#define SCTP_COMMON_HEADER_LEN 12u

/* The part of the datagram that follows the IP headers. */
struct l4_span {
	const uint8_t *start;
	uint32_t captured; /* bytes readable at start */
	uint32_t wire;     /* bytes the datagram says follow the headers */
};

/* Byte reads: header fields are not aligned in the receive buffer. */
static inline uint16_t read_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static void parse_reset(struct vd_packet *pkt)
{
	uint16_t kept = pkt->flags & PARSE_KERNEL_FLAGS;

	/* The parser fields run from flags to payload_len; what follows them
	 * (source and the NFLOG attributes) is metadata. */
	memset(&pkt->flags, 0, offsetof(struct vd_packet, payload_len) + sizeof(pkt->payload_len) -
				       offsetof(struct vd_packet, flags));
	pkt->flags = kept;
	if (pkt->caplen < pkt->len)
		pkt->flags |= VD_PACKET_TRUNCATED;
}

/* The wire length as parse sees it: never below what was captured. */
static inline uint32_t parse_wire_len(const struct vd_packet *pkt)
{
	return pkt->len > pkt->caplen ? pkt->len : pkt->caplen;
}

static void l3_set(struct vd_packet *pkt, uint32_t datagram_len, uint32_t header_len)
{
	pkt->l3 = pkt->data;
	pkt->l3_len = min_u32(datagram_len, pkt->caplen);
	pkt->l3_header_len = header_len;
}

static enum vd_parse_error ipv4_parse(struct vd_packet *pkt, struct l4_span *span)
{
	const uint8_t *ip = pkt->data;
	uint32_t header_len, total_len;
	uint16_t fragment;

	if (pkt->caplen < IPV4_HEADER_MIN)
		return VD_PARSE_IPV4_SHORT;
	header_len = (ip[0] & 0x0fu) * 4u;
	if (header_len < IPV4_HEADER_MIN || header_len > pkt->caplen)
		return VD_PARSE_IPV4_HEADER_LEN;
	total_len = read_be16(ip + 2);
	/* BIG TCP: a GSO packet over 64 KiB carries total length 0 and is as
	 * long as the kernel says it is. */
	if (total_len == 0 && (pkt->flags & VD_PACKET_GSO) && parse_wire_len(pkt) > 0xffffu)
		total_len = parse_wire_len(pkt);
	if (total_len < header_len)
		return VD_PARSE_IPV4_TOTAL_LEN;
	/* Past the capture but within the wire length is the copy range's cut. */
	if (total_len > parse_wire_len(pkt))
		return VD_PARSE_IPV4_TRUNCATED;

	pkt->ip_version = 4;
	pkt->ttl = ip[8];
	pkt->l4_proto = ip[9];
	pkt->src = ip + 12;
	pkt->dst = ip + 16;
	l3_set(pkt, total_len, header_len);

	fragment = read_be16(ip + 6);
	if (fragment & 0x3fffu) /* MF or a non-zero offset */
		pkt->flags |= VD_PACKET_FRAGMENT;
	if (fragment & 0x1fffu)
		pkt->flags |= VD_PACKET_LATER_FRAGMENT;

	span->wire = total_len - header_len;
	return VD_PARSE_OK;
}

static bool ipv6_is_ext_header(uint8_t next)
{
	switch (next) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
		return true;
	default:
		return false;
	}
}

static uint32_t ipv6_ext_len(uint8_t type, const uint8_t *hdr)
{
	if (type == IPPROTO_FRAGMENT)
		return IPV6_FRAGMENT_HEADER_LEN;
	if (type == IPPROTO_AH) /* RFC 4302: in 4-byte units, minus 2 */
		return ((uint32_t)hdr[1] + 2u) * 4u;
	return ((uint32_t)hdr[1] + 1u) * 8u;
}

static void ipv6_fragment_note(struct vd_packet *pkt, const uint8_t *hdr)
{
	uint16_t offset_flags = read_be16(hdr + 2);

	if (offset_flags & 0xfff9u) /* offset or M */
		pkt->flags |= VD_PACKET_FRAGMENT;
	if (offset_flags & 0xfff8u)
		pkt->flags |= VD_PACKET_LATER_FRAGMENT;
}

/*
 * Walks the extension headers that follow the fixed header, advancing
 * l3_header_len and ext_headers as it goes. Stops at the first upper-layer
 * protocol, or after a later fragment's header since what follows it is the
 * middle of someone else's payload.
 */
static enum vd_parse_error ipv6_ext_walk(struct vd_packet *pkt, uint8_t *next)
{
	const uint8_t *hdr;
	uint32_t len;

	while (ipv6_is_ext_header(*next)) {
		if (pkt->ext_headers == VD_PACKET_MAX_EXT_HEADERS)
			return VD_PARSE_IPV6_EXT_CHAIN;
		hdr = pkt->l3 + pkt->l3_header_len;
		/* Every extension header starts with next-header and length. */
		if (pkt->l3_len - pkt->l3_header_len < 2u)
			return VD_PARSE_IPV6_EXT_OVERRUN;
		len = ipv6_ext_len(*next, hdr);
		if (len > pkt->l3_len - pkt->l3_header_len)
			return VD_PARSE_IPV6_EXT_OVERRUN;
		if (*next == IPPROTO_FRAGMENT)
			ipv6_fragment_note(pkt, hdr);
		*next = hdr[0];
		pkt->l3_header_len += len;
		pkt->ext_headers++;
		if (pkt->flags & VD_PACKET_LATER_FRAGMENT)
			break;
	}
	return VD_PARSE_OK;
}

static enum vd_parse_error ipv6_parse(struct vd_packet *pkt, struct l4_span *span)
{
	const uint8_t *ip = pkt->data;
	uint32_t datagram_len;
	uint8_t next;
	enum vd_parse_error err;

	if (pkt->caplen < IPV6_HEADER_LEN)
		return VD_PARSE_IPV6_SHORT;
	datagram_len = IPV6_HEADER_LEN + read_be16(ip + 4);
	/* Payload length 0 is a jumbogram (RFC 2675) or a BIG TCP GSO packet:
	 * the datagram is the whole packet. */
	if (datagram_len == IPV6_HEADER_LEN)
		datagram_len = parse_wire_len(pkt);
	if (datagram_len > parse_wire_len(pkt))
		return VD_PARSE_IPV6_TRUNCATED;

	pkt->ip_version = 6;
	pkt->ttl = ip[7];
	pkt->src = ip + 8;
	pkt->dst = ip + 24;
	l3_set(pkt, datagram_len, IPV6_HEADER_LEN);

	next = ip[6];
	err = ipv6_ext_walk(pkt, &next);
	if (err != VD_PARSE_OK)
		return err;
	pkt->l4_proto = next;
	span->wire = datagram_len - pkt->l3_header_len;
	return VD_PARSE_OK;
}

/* Records the L4 header at span->start; callers have checked every length. */
static void l4_set(struct vd_packet *pkt, const struct l4_span *span, uint32_t header_len,
		   uint32_t payload_len)
{
	pkt->flags |= VD_PACKET_L4;
	pkt->l4 = span->start;
	pkt->l4_len = span->captured;
	pkt->payload = span->start + header_len;
	pkt->payload_len = payload_len;
}

/*
 * A header that fits the wire datagram but not the capture was cut by the
 * copy range (L4_SHORT); one that does not fit the datagram is malformed
 * (bad_length).
 */
static enum vd_parse_error l4_fits(const struct l4_span *span, uint32_t need,
				   enum vd_parse_error bad_length)
{
	if (need > span->wire)
		return bad_length;
	if (need > span->captured)
		return VD_PARSE_L4_SHORT;
	return VD_PARSE_OK;
}

static enum vd_parse_error tcp_parse(struct vd_packet *pkt, const struct l4_span *span)
{
	const uint8_t *tcp = span->start;
	uint32_t header_len;
	enum vd_parse_error err;

	err = l4_fits(span, TCP_HEADER_MIN, VD_PARSE_L4_SHORT);
	if (err != VD_PARSE_OK)
		return err;
	header_len = (uint32_t)(tcp[12] >> 4) * 4u;
	if (header_len < TCP_HEADER_MIN)
		return VD_PARSE_TCP_HEADER_LEN;
	err = l4_fits(span, header_len, VD_PARSE_TCP_HEADER_LEN);
	if (err != VD_PARSE_OK)
		return err;

	pkt->sport = read_be16(tcp);
	pkt->dport = read_be16(tcp + 2);
	pkt->tcp_flags = tcp[13];
	l4_set(pkt, span, header_len, span->captured - header_len);
	return VD_PARSE_OK;
}

static enum vd_parse_error udp_parse(struct vd_packet *pkt, const struct l4_span *span)
{
	const uint8_t *udp = span->start;
	uint32_t udp_len;
	enum vd_parse_error err;

	err = l4_fits(span, UDP_HEADER_LEN, VD_PARSE_L4_SHORT);
	if (err != VD_PARSE_OK)
		return err;
	udp_len = read_be16(udp + 4);
	if (udp_len < UDP_HEADER_LEN)
		return VD_PARSE_UDP_LEN;
	/* A first fragment's UDP length covers the reassembled datagram. */
	if (udp_len > span->wire && !(pkt->flags & VD_PACKET_FRAGMENT))
		return VD_PARSE_UDP_LEN;

	pkt->sport = read_be16(udp);
	pkt->dport = read_be16(udp + 2);
	l4_set(pkt, span, UDP_HEADER_LEN,
	       min_u32(udp_len, span->captured) - UDP_HEADER_LEN);
	return VD_PARSE_OK;
}

/* The type and code are all a rule needs, so 4 bytes are enough even
 * though the ICMP header is 8. */
static enum vd_parse_error icmp_parse(struct vd_packet *pkt, const struct l4_span *span)
{
	uint32_t header_len = min_u32(ICMP_HEADER_LEN, span->captured);
	enum vd_parse_error err;

	err = l4_fits(span, ICMP_TYPE_CODE_LEN, VD_PARSE_L4_SHORT);
	if (err != VD_PARSE_OK)
		return err;

	pkt->icmp_type = span->start[0];
	pkt->icmp_code = span->start[1];
	l4_set(pkt, span, header_len, span->captured - header_len);
	return VD_PARSE_OK;
}

static enum vd_parse_error sctp_parse(struct vd_packet *pkt, const struct l4_span *span)
{
	enum vd_parse_error err;

	err = l4_fits(span, SCTP_COMMON_HEADER_LEN, VD_PARSE_L4_SHORT);
	if (err != VD_PARSE_OK)
		return err;

	pkt->sport = read_be16(span->start);
	pkt->dport = read_be16(span->start + 2);
	l4_set(pkt, span, SCTP_COMMON_HEADER_LEN, span->captured - SCTP_COMMON_HEADER_LEN);
	return VD_PARSE_OK;
}

/* ICMP is decoded only under its own IP version: protocol 1 inside IPv6
 * (or 58 inside IPv4) is not a message anyone would write a rule for. */
static bool l4_is_icmp(const struct vd_packet *pkt)
{
	if (pkt->ip_version == 4)
		return pkt->l4_proto == IPPROTO_ICMP;
	return pkt->l4_proto == IPPROTO_ICMPV6;
}

static enum vd_parse_error l4_parse(struct vd_packet *pkt, struct l4_span *span)
{
	span->start = pkt->l3 + pkt->l3_header_len;
	span->captured = pkt->l3_len - pkt->l3_header_len;

	/* A later fragment carries payload bytes, not a header. */
	if (pkt->flags & VD_PACKET_LATER_FRAGMENT) {
		pkt->payload = span->start;
		pkt->payload_len = span->captured;
		return VD_PARSE_OK;
	}
	switch (pkt->l4_proto) {
	case IPPROTO_TCP:
		return tcp_parse(pkt, span);
	case IPPROTO_UDP:
		return udp_parse(pkt, span);
	case IPPROTO_SCTP:
		return sctp_parse(pkt, span);
	default:
		if (l4_is_icmp(pkt))
			return icmp_parse(pkt, span);
		break;
	}
	/* Undecoded protocol (ESP and no-next-header included): l4 points at
	 * its header, whatever it is, and the payload is everything after IP. */
	pkt->l4 = span->start;
	pkt->l4_len = span->captured;
	pkt->payload = span->start;
	pkt->payload_len = span->captured;
	return VD_PARSE_OK;
}

VD_EXPORT void vd_packet_view_init(struct vd_packet *pkt, const uint8_t *data, uint32_t caplen,
			 uint32_t len)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->data = data;
	pkt->caplen = caplen;
	pkt->len = len < caplen ? caplen : len;
	if (caplen < pkt->len)
		pkt->flags = VD_PACKET_TRUNCATED;
}

/*
 * Hot path: called once per packet by every worker. It allocates nothing,
 * copies nothing (every result points into pkt->data), makes no syscall and
 * reads no byte outside pkt->data[0, caplen).
 */
VD_EXPORT enum vd_parse_error vd_packet_parse(struct vd_packet *pkt)
{
	struct l4_span span = { 0 };
	enum vd_parse_error err;

	parse_reset(pkt);
	if (pkt->caplen == 0)
		err = VD_PARSE_EMPTY;
	else if (pkt->data[0] >> 4 == 4)
		err = ipv4_parse(pkt, &span);
	else if (pkt->data[0] >> 4 == 6)
		err = ipv6_parse(pkt, &span);
	else
		err = VD_PARSE_IP_VERSION;
	if (err == VD_PARSE_OK)
		err = l4_parse(pkt, &span);
	pkt->parse_error = (uint8_t)err;
	return err;
}

VD_EXPORT const char *vd_parse_error_str(enum vd_parse_error e)
{
	static const char *const names[VD_PARSE_ERROR_COUNT] = {
		[VD_PARSE_OK] = "ok",
		[VD_PARSE_EMPTY] = "empty packet",
		[VD_PARSE_IP_VERSION] = "unknown IP version",
		[VD_PARSE_IPV4_SHORT] = "IPv4 header too short",
		[VD_PARSE_IPV4_HEADER_LEN] = "IPv4 header length",
		[VD_PARSE_IPV4_TOTAL_LEN] = "IPv4 total length below header length",
		[VD_PARSE_IPV4_TRUNCATED] = "IPv4 total length beyond packet",
		[VD_PARSE_IPV6_SHORT] = "IPv6 header too short",
		[VD_PARSE_IPV6_TRUNCATED] = "IPv6 payload length beyond packet",
		[VD_PARSE_IPV6_EXT_OVERRUN] = "IPv6 extension header overrun",
		[VD_PARSE_IPV6_EXT_CHAIN] = "IPv6 extension header chain too long",
		[VD_PARSE_L4_SHORT] = "transport header cut short",
		[VD_PARSE_TCP_HEADER_LEN] = "TCP header length",
		[VD_PARSE_UDP_LEN] = "UDP length",
	};

	if ((unsigned)e >= VD_PARSE_ERROR_COUNT || !names[e])
		return "unknown parse error";
	return names[e];
}

static const char *address_str(const struct vd_packet *pkt, const uint8_t *addr, char *buf,
			       size_t size)
{
	int family = pkt->ip_version == 4 ? AF_INET : AF_INET6;

	if (size == 0)
		return "";
	buf[0] = '\0';
	if ((pkt->ip_version != 4 && pkt->ip_version != 6) || !addr)
		return buf;
	/* socklen_t is narrower than size_t; a buffer past its range is
	 * plenty anyway. */
	if (size > INET6_ADDRSTRLEN)
		size = INET6_ADDRSTRLEN;
	if (!inet_ntop(family, addr, buf, (socklen_t)size))
		buf[0] = '\0';
	return buf;
}

VD_EXPORT const char *vd_packet_src_str(const struct vd_packet *pkt, char *buf, size_t size)
{
	return address_str(pkt, pkt->src, buf, size);
}

VD_EXPORT const char *vd_packet_dst_str(const struct vd_packet *pkt, char *buf, size_t size)
{
	return address_str(pkt, pkt->dst, buf, size);
}

VD_EXPORT const char *vd_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	case IPPROTO_SCTP: return "sctp";
	case IPPROTO_UDPLITE: return "udplite";
	case IPPROTO_GRE: return "gre";
	case IPPROTO_ESP: return "esp";
	case IPPROTO_AH: return "ah";
	default: return NULL;
	}
}

VD_EXPORT const char *vd_tcp_flag_name(unsigned b)
{
	static const char *const names[] = { "fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr" };

	return b < 8 ? names[b] : NULL;
}
