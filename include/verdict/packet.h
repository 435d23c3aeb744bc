/*
 * verdict/packet.h - the zero-copy packet view.
 *
 * A struct vd_packet describes one packet without copying it: data, l3, l4
 * and payload point into the buffer the packet was received in (or whatever
 * buffer the caller passed to vd_packet_view_init). The view is valid only
 * until the callback that received it returns; keep nothing past that.
 *
 * Every field the parser fills was bounds-checked against caplen. A packet
 * that is malformed or cut short still yields a view: parse_error says which
 * layer could not be read, and the fields of that layer and above stay zero.
 * Kernel metadata fields are valid only when their bit is set in meta.
 */
#ifndef VERDICT_PACKET_H
#define VERDICT_PACKET_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

#ifdef __cplusplus
extern "C" {
#endif

/* vd_packet.meta: which kernel metadata the packet carried. */
enum vd_meta {
	VD_META_MARK = 1u << 0,
	VD_META_TIMESTAMP = 1u << 1,
	VD_META_INDEV = 1u << 2,
	VD_META_OUTDEV = 1u << 3,
	VD_META_PHYSINDEV = 1u << 4,
	VD_META_PHYSOUTDEV = 1u << 5,
	VD_META_HWADDR = 1u << 6,
	VD_META_UID = 1u << 7,
	VD_META_GID = 1u << 8,
	VD_META_CT = 1u << 9, /* ct_state (and ct_mark when the kernel sent it) */
	VD_META_CT_MARK = 1u << 10,
	VD_META_SECCTX = 1u << 11,
	VD_META_SKB_INFO = 1u << 12,
	/* NFLOG only */
	VD_META_PREFIX = 1u << 13,     /* prefix (the rule's --nflog-prefix) */
	VD_META_SEQ = 1u << 14,        /* seq: per-group sequence number */
	VD_META_SEQ_GLOBAL = 1u << 15, /* seq_global: sequence over all groups */
	VD_META_HWTYPE = 1u << 16,     /* hw_type (ARPHRD_*) */
	VD_META_HWHEADER = 1u << 17,   /* hw_header, hw_header_len */
	VD_META_VLAN = 1u << 18,       /* vlan_proto, vlan_tci */
	VD_META_L2HDR = 1u << 19,      /* l2_header, l2_header_len */
	VD_META_CT_INFO = 1u << 20,    /* ct_state came from NFULA_CT_INFO */
};

/* vd_packet.source: where the packet came from. */
enum vd_packet_source {
	VD_SOURCE_QUEUE = 0,  /* an NFQUEUE queue: it waits for a verdict */
	VD_SOURCE_NFLOG = 1,  /* an NFLOG group: a copy, its fate is not ours */
	VD_SOURCE_REPLAY = 2, /* a capture file, offline */
};

/* vd_packet.flags: facts the parser found. */
enum vd_packet_flag {
	VD_PACKET_TRUNCATED = 1u << 0,  /* caplen < len: cut short by the copy range */
	VD_PACKET_FRAGMENT = 1u << 1,   /* part of a fragmented IP datagram */
	VD_PACKET_LATER_FRAGMENT = 1u << 2, /* not the first fragment: no L4 header */
	VD_PACKET_L4 = 1u << 3,         /* the L4 header was read: ports etc. valid */
	VD_PACKET_GSO = 1u << 4,        /* kernel: a GSO packet (NFQA_SKB_GSO) */
	VD_PACKET_CSUM_NOT_READY = 1u << 5, /* kernel: checksum not yet computed */
};

/* vd_packet.parse_error: the first check that failed, in parse order. */
enum vd_parse_error {
	VD_PARSE_OK = 0,
	VD_PARSE_EMPTY,             /* no bytes at all */
	VD_PARSE_IP_VERSION,        /* version nibble neither 4 nor 6 */
	VD_PARSE_IPV4_SHORT,        /* fewer than 20 bytes */
	VD_PARSE_IPV4_HEADER_LEN,   /* IHL below 5 or beyond the captured bytes */
	VD_PARSE_IPV4_TOTAL_LEN,    /* total length below the header length */
	VD_PARSE_IPV4_TRUNCATED,    /* total length beyond the packet, not a capture cut */
	VD_PARSE_IPV6_SHORT,        /* fewer than 40 bytes */
	VD_PARSE_IPV6_TRUNCATED,    /* payload length beyond the packet, not a capture cut */
	VD_PARSE_IPV6_EXT_OVERRUN,  /* an extension header runs past the end */
	VD_PARSE_IPV6_EXT_CHAIN,    /* more than VD_PACKET_MAX_EXT_HEADERS headers */
	VD_PARSE_L4_SHORT,          /* L4 header cut short (see VD_PACKET_TRUNCATED) */
	VD_PARSE_TCP_HEADER_LEN,    /* TCP data offset below 5 or past the end */
	VD_PARSE_UDP_LEN,           /* UDP length below 8 or beyond the IP payload */
	VD_PARSE_ERROR_COUNT
};

/* Longest IPv6 extension header chain the parser walks before it gives up. */
#define VD_PACKET_MAX_EXT_HEADERS 16

/* TCP flag bits as in the header's 13th byte. */
enum vd_tcp_flag {
	VD_TCP_FIN = 0x01, VD_TCP_SYN = 0x02, VD_TCP_RST = 0x04, VD_TCP_PSH = 0x08,
	VD_TCP_ACK = 0x10, VD_TCP_URG = 0x20, VD_TCP_ECE = 0x40, VD_TCP_CWR = 0x80,
};

/* Conntrack state, the kernel's enum ip_conntrack_info. */
enum vd_ct_state {
	VD_CT_ESTABLISHED = 0,
	VD_CT_RELATED = 1,
	VD_CT_NEW = 2,
	VD_CT_ESTABLISHED_REPLY = 3,
	VD_CT_RELATED_REPLY = 4,
	VD_CT_UNTRACKED = 7,
};

struct vd_packet {
	/* --- kernel metadata (NFQUEUE / NFLOG attributes) --- */
	uint32_t id;           /* packet id, used for the verdict */
	uint16_t queue;        /* queue (or log group) it came from */
	uint16_t hw_protocol;  /* ethertype, host order (0x0800, 0x86dd) */
	uint8_t hook;          /* netfilter hook (NF_INET_*) */
	uint8_t family;        /* netfilter family of the message (NFPROTO_*) */
	uint16_t hwaddr_len;   /* bytes valid in hwaddr */
	uint32_t meta;         /* enum vd_meta */
	uint32_t mark;
	uint32_t indev, outdev, physindev, physoutdev; /* interface indexes */
	uint32_t uid, gid;     /* owning socket's, for local traffic */
	uint32_t ct_state;     /* enum vd_ct_state */
	uint32_t ct_mark;      /* connmark */
	uint32_t skb_info;     /* NFQA_SKB_* bits */
	uint64_t timestamp_ns; /* receive time, ns since the epoch */
	uint8_t hwaddr[8];
	const char *secctx;    /* security context, not NUL-terminated */
	uint32_t secctx_len;

	/* --- the bytes --- */
	const uint8_t *data;   /* first byte of the network header */
	uint32_t caplen;       /* bytes available at data */
	uint32_t len;          /* length on the wire (>= caplen) */

	/* --- parser results (vd_packet_parse) --- */
	uint16_t flags;        /* enum vd_packet_flag */
	uint8_t parse_error;   /* enum vd_parse_error */
	uint8_t ip_version;    /* 4, 6, or 0 when unknown */
	uint8_t ttl;           /* IPv4 TTL or IPv6 hop limit */
	uint8_t l4_proto;      /* IPPROTO_* after extension headers */
	uint8_t tcp_flags;     /* enum vd_tcp_flag */
	uint8_t icmp_type;     /* ICMP or ICMPv6 */
	uint8_t icmp_code;
	uint8_t ext_headers;   /* IPv6 extension headers walked */
	uint16_t sport, dport; /* host order; TCP, UDP, SCTP */
	const uint8_t *l3;     /* == data once the IP header checked out */
	uint32_t l3_len;       /* bytes of the datagram within the capture */
	uint32_t l3_header_len; /* IP header plus extension headers */
	const uint8_t *src, *dst; /* 4 or 16 bytes, network order, inside l3 */
	const uint8_t *l4;     /* L4 header */
	uint32_t l4_len;       /* bytes from l4 to the end of the datagram's capture */
	const uint8_t *payload; /* L4 payload (or what follows the IP headers
				 * when the L4 protocol is not decoded) */
	uint32_t payload_len;

	/* --- appended in hook ABI 1: source, and the NFLOG attributes --- */
	uint8_t source;        /* enum vd_packet_source */
	uint8_t reserved;
	uint16_t hw_header_len; /* bytes at hw_header */
	uint16_t hw_type;      /* ARPHRD_* of the input device */
	uint16_t vlan_proto;   /* VLAN ethertype (0x8100, 0x88a8), host order */
	uint16_t vlan_tci;     /* VLAN tag control information, host order */
	uint32_t seq;          /* NFULA_SEQ */
	uint32_t seq_global;   /* NFULA_SEQ_GLOBAL */
	const char *prefix;    /* NUL-terminated, inside the message; NULL without */
	const uint8_t *hw_header; /* NFULA_HWHEADER: the link-layer header */
	const uint8_t *l2_header; /* NFULA_L2HDR (with VLAN): the L2 header */
	uint32_t l2_header_len;
};

/* Prepares pkt for vd_packet_parse over caplen bytes at data, of a packet
 * that was len bytes on the wire (len < caplen is taken as caplen). Clears
 * every field, metadata included. Never fails. */
void vd_packet_view_init(struct vd_packet *pkt, const uint8_t *data, uint32_t caplen,
			 uint32_t len);

/* Parses the network and transport headers of pkt->data[0, caplen) and fills
 * the parser fields; metadata fields are left alone. Reads no byte outside
 * that range and writes none at all. Returns pkt->parse_error (VD_PARSE_OK on
 * success). Hot path: no allocation, no copy. */
enum vd_parse_error vd_packet_parse(struct vd_packet *pkt);

/* The name of an IP protocol number as rules and logs write it: "tcp",
 * "udp", "icmp", "icmpv6", "sctp", "udplite", "gre", "esp", "ah"; NULL for
 * others. */
const char *vd_proto_name(uint8_t proto);

/* The lower-case name of TCP flag bit b (0: "fin" ... 7: "cwr"), as rules
 * and logs write it; NULL for b > 7. */
const char *vd_tcp_flag_name(unsigned b);

/* A short English phrase for e, e.g. "IPv4 header length"; never NULL. */
const char *vd_parse_error_str(enum vd_parse_error e);

/* Writes the source or destination address as text (inet_ntop) into buf;
 * returns buf, or "" when the packet has no IP header. */
const char *vd_packet_src_str(const struct vd_packet *pkt, char *buf, size_t size);
const char *vd_packet_dst_str(const struct vd_packet *pkt, char *buf, size_t size);

/* IPv4 source/destination in host order; 0 when not IPv4. */
static inline uint32_t vd_packet_src_v4(const struct vd_packet *pkt)
{
	uint32_t a;
	if (pkt->ip_version != 4)
		return 0;
	memcpy(&a, pkt->src, 4);
	return ntohl(a);
}

static inline uint32_t vd_packet_dst_v4(const struct vd_packet *pkt)
{
	uint32_t a;
	if (pkt->ip_version != 4)
		return 0;
	memcpy(&a, pkt->dst, 4);
	return ntohl(a);
}

/* True when the L4 header was read: ports, TCP flags or ICMP type/code,
 * whichever the protocol has (the helpers below say which). */
static inline bool vd_packet_has_l4(const struct vd_packet *pkt)
{
	return (pkt->flags & VD_PACKET_L4) != 0;
}

/* True when sport and dport hold the packet's ports: a protocol with ports
 * (TCP, UDP, UDP-Lite, SCTP) whose header was read. Rules and Lua hooks
 * treat the ports of any other packet as absent, not as 0. */
static inline bool vd_packet_has_ports(const struct vd_packet *pkt)
{
	if (!vd_packet_has_l4(pkt))
		return false;
	switch (pkt->l4_proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
		return true;
	default:
		return false;
	}
}

/* True when icmp_type and icmp_code hold an ICMP or ICMPv6 header's. */
static inline bool vd_packet_has_icmp(const struct vd_packet *pkt)
{
	return vd_packet_has_l4(pkt) &&
	       (pkt->l4_proto == IPPROTO_ICMP || pkt->l4_proto == IPPROTO_ICMPV6);
}

/* True when tcp_flags holds a TCP header's flags. */
static inline bool vd_packet_has_tcp_flags(const struct vd_packet *pkt)
{
	return vd_packet_has_l4(pkt) && pkt->l4_proto == IPPROTO_TCP;
}

#ifdef __cplusplus
}
#endif

#endif
