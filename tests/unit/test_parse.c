/* test_parse.c - unit tests for engine/parse.c, the packet parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <verdict/packet.h>

#include "helpers.h"

/* prestate of the tests that run once per IP version */
static int ipv4 = 4, ipv6 = 6;

static int version_of(void **state)
{
	return *(int *)*state;
}

static size_t build(int version, uint8_t *buf, const struct vt_l4 *l4)
{
	if (version == 4)
		return vt_ipv4_build(buf, VT_PACKET_MAX, NULL, l4);
	return vt_ipv6_build(buf, VT_PACKET_MAX, NULL, l4);
}

static uint32_t ip_header_len(int version)
{
	return version == 4 ? 20 : 40;
}

static uint8_t icmp_proto(int version)
{
	return version == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
}

static void assert_addresses(const struct vd_packet *pkt, int version)
{
	char buf[INET6_ADDRSTRLEN];

	assert_int_equal(pkt->ip_version, version);
	assert_string_equal(vd_packet_src_str(pkt, buf, sizeof(buf)),
			    version == 4 ? VT_IPV4_SRC : VT_IPV6_SRC);
	assert_string_equal(vd_packet_dst_str(pkt, buf, sizeof(buf)),
			    version == 4 ? VT_IPV4_DST : VT_IPV6_DST);
}

/* Where each layer of a packet built at buf starts and how long it is. */
static void assert_layout(const struct vd_packet *pkt, const uint8_t *buf, uint32_t l3_len,
			  uint32_t l3_header_len, uint32_t l4_header_len, uint32_t payload_len)
{
	assert_ptr_equal(pkt->l3, buf);
	assert_int_equal(pkt->l3_len, l3_len);
	assert_int_equal(pkt->l3_header_len, l3_header_len);
	assert_ptr_equal(pkt->l4, buf + l3_header_len);
	assert_int_equal(pkt->l4_len, l3_len - l3_header_len);
	assert_ptr_equal(pkt->payload, buf + l3_header_len + l4_header_len);
	assert_int_equal(pkt->payload_len, payload_len);
}

/* An L4 error keeps the L3 fields and leaves every L4 field zero. */
static void assert_no_l4(const struct vd_packet *pkt)
{
	assert_false(vd_packet_has_l4(pkt));
	assert_null(pkt->l4);
	assert_int_equal(pkt->l4_len, 0);
	assert_int_equal(pkt->sport, 0);
	assert_int_equal(pkt->dport, 0);
	assert_int_equal(pkt->tcp_flags, 0);
	assert_int_equal(pkt->icmp_type, 0);
	assert_null(pkt->payload);
	assert_int_equal(pkt->payload_len, 0);
}

/* An IP header error leaves every parser field but flags zero. */
static void assert_no_l3(const struct vd_packet *pkt)
{
	assert_int_equal(pkt->ip_version, 0);
	assert_int_equal(pkt->ttl, 0);
	assert_int_equal(pkt->l4_proto, 0);
	assert_null(pkt->l3);
	assert_int_equal(pkt->l3_len, 0);
	assert_null(pkt->src);
	assert_null(pkt->dst);
	assert_no_l4(pkt);
}

/* ---- valid packets, once per IP version ---- */

static void tcp_ports_flags(void **state)
{
	int v = version_of(state);
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_l4 l4 = { .proto = IPPROTO_TCP, .sport = 40000, .dport = 443,
			    .tcp_flags = VD_TCP_SYN | VD_TCP_ACK, .payload_len = 10 };
	size_t n = build(v, buf, &l4);
	uint32_t h = ip_header_len(v);

	assert_int_equal(n, h + 30);
	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
	assert_int_equal(pkt.parse_error, VD_PARSE_OK);
	assert_int_equal(pkt.flags, VD_PACKET_L4);
	assert_addresses(&pkt, v);
	assert_int_equal(pkt.ttl, 64);
	assert_int_equal(pkt.l4_proto, IPPROTO_TCP);
	assert_int_equal(pkt.ext_headers, 0);
	assert_int_equal(pkt.sport, 40000);
	assert_int_equal(pkt.dport, 443);
	assert_int_equal(pkt.tcp_flags, VD_TCP_SYN | VD_TCP_ACK);
	assert_layout(&pkt, buf, n, h, 20, 10);
	assert_int_equal(pkt.payload[9], 9);
}

static void udp_ports(void **state)
{
	int v = version_of(state);
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_l4 l4 = { .proto = IPPROTO_UDP, .sport = 5353, .dport = 53,
			    .payload = "query", .payload_len = 5 };
	size_t n = build(v, buf, &l4);

	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
	assert_int_equal(pkt.flags, VD_PACKET_L4);
	assert_addresses(&pkt, v);
	assert_int_equal(pkt.l4_proto, IPPROTO_UDP);
	assert_int_equal(pkt.sport, 5353);
	assert_int_equal(pkt.dport, 53);
	assert_layout(&pkt, buf, n, ip_header_len(v), 8, 5);
	assert_memory_equal(pkt.payload, "query", 5);
}

static void icmp_type_code(void **state)
{
	int v = version_of(state);
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_l4 l4 = { .proto = icmp_proto(v), .icmp_type = v == 4 ? 3 : 1,
			    .icmp_code = 4, .payload_len = 28 };
	size_t n = build(v, buf, &l4);

	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
	assert_int_equal(pkt.flags, VD_PACKET_L4);
	assert_addresses(&pkt, v);
	assert_int_equal(pkt.l4_proto, icmp_proto(v));
	assert_int_equal(pkt.icmp_type, v == 4 ? 3 : 1);
	assert_int_equal(pkt.icmp_code, 4);
	assert_int_equal(pkt.sport, 0);
	assert_layout(&pkt, buf, n, ip_header_len(v), 8, 28);
}

/* 4 to 7 bytes of ICMP: type and code are there, the rest of the header is
 * not, so the payload is empty. */
static void icmp_short_header(void **state)
{
	int v = version_of(state);
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_l4 l4 = { .proto = icmp_proto(v), .icmp_type = v == 4 ? 8 : 128 };
	size_t n;

	for (int keep = 4; keep < 8; keep++) {
		struct vt_ipv4 ip4 = { .total_len_adjust = keep - 8 };
		struct vt_ipv6 ip6 = { .payload_len_adjust = keep - 8 };
		uint32_t h = ip_header_len(v);

		n = v == 4 ? vt_ipv4_build(buf, sizeof(buf), &ip4, &l4)
			   : vt_ipv6_build(buf, sizeof(buf), &ip6, &l4);
		n -= 8 - (size_t)keep;
		assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
		assert_true(vd_packet_has_l4(&pkt));
		assert_int_equal(pkt.icmp_type, v == 4 ? 8 : 128);
		assert_layout(&pkt, buf, h + (uint32_t)keep, h, (uint32_t)keep, 0);
	}
}

static void sctp_ports(void **state)
{
	int v = version_of(state);
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_l4 l4 = { .proto = IPPROTO_SCTP, .sport = 2905, .dport = 36412,
			    .payload_len = 16 };
	size_t n = build(v, buf, &l4);

	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
	assert_int_equal(pkt.flags, VD_PACKET_L4);
	assert_int_equal(pkt.l4_proto, IPPROTO_SCTP);
	assert_int_equal(pkt.sport, 2905);
	assert_int_equal(pkt.dport, 36412);
	assert_layout(&pkt, buf, n, ip_header_len(v), 12, 16);
}

/* GRE is not decoded, nor is the other version's ICMP: the payload is all
 * that follows the IP header. */
static void other_protocol(void **state)
{
	int v = version_of(state);
	uint8_t protos[] = { IPPROTO_GRE, v == 4 ? IPPROTO_ICMPV6 : IPPROTO_ICMP };
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;

	for (size_t i = 0; i < sizeof(protos); i++) {
		struct vt_l4 l4 = { .proto = protos[i], .payload_len = 24 };
		size_t n = build(v, buf, &l4);

		assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
		assert_int_equal(pkt.flags, 0);
		assert_addresses(&pkt, v);
		assert_int_equal(pkt.l4_proto, protos[i]);
		assert_int_equal(pkt.sport, 0);
		assert_int_equal(pkt.icmp_type, 0);
		assert_layout(&pkt, buf, n, ip_header_len(v), 0, (uint32_t)n - ip_header_len(v));
	}
}

/* Link-layer padding after the datagram is not part of it. */
static void trailing_padding(void **state)
{
	int v = version_of(state);
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_l4 l4 = { .proto = IPPROTO_UDP, .sport = 1, .dport = 2, .payload_len = 6 };
	struct vt_ipv4 ip4 = { .padding = 18 };
	struct vt_ipv6 ip6 = { .padding = 18 };
	size_t n = v == 4 ? vt_ipv4_build(buf, sizeof(buf), &ip4, &l4)
			  : vt_ipv6_build(buf, sizeof(buf), &ip6, &l4);
	uint32_t h = ip_header_len(v);

	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
	assert_int_equal(pkt.flags, VD_PACKET_L4);
	assert_layout(&pkt, buf, h + 14, h, 8, 6);
}

/* ---- IPv4 specifics ---- */

static void ipv4_options(void **state)
{
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_ipv4 ip = { .options_len = 40, .ttl = 3 };
	struct vt_l4 l4 = { .proto = IPPROTO_TCP, .sport = 22, .dport = 50000,
			    .tcp_flags = VD_TCP_PSH | VD_TCP_ACK, .tcp_options_len = 12,
			    .payload_len = 100 };
	size_t n = vt_ipv4_build(buf, sizeof(buf), &ip, &l4);

	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
	assert_addresses(&pkt, 4);
	assert_int_equal(vd_packet_src_v4(&pkt), 0xc0000201);
	assert_int_equal(vd_packet_dst_v4(&pkt), 0xc6336402);
	assert_int_equal(pkt.ttl, 3);
	assert_int_equal(pkt.sport, 22);
	assert_int_equal(pkt.dport, 50000);
	assert_int_equal(pkt.tcp_flags, VD_TCP_PSH | VD_TCP_ACK);
	assert_layout(&pkt, buf, n, 60, 32, 100);
}

/* The first fragment has the L4 header; its UDP length covers the whole
 * datagram, more than this fragment carries. */
static void ipv4_first_fragment(void **state)
{
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_ipv4 ip = { .fragment = VT_IPV4_MF };
	struct vt_l4 l4 = { .proto = IPPROTO_UDP, .sport = 4500, .dport = 4500,
			    .payload_len = 64, .udp_len_adjust = 1400 };
	size_t n = vt_ipv4_build(buf, sizeof(buf), &ip, &l4);

	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
	assert_int_equal(pkt.flags, VD_PACKET_FRAGMENT | VD_PACKET_L4);
	assert_int_equal(pkt.sport, 4500);
	assert_layout(&pkt, buf, n, 20, 8, 64);
}

static void ipv4_later_fragment(void **state)
{
	uint16_t fields[] = { VT_IPV4_MF | 185, 370, VT_IPV4_DF | VT_IPV4_MF | 1 };
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		struct vt_ipv4 ip = { .fragment = fields[i] };
		/* The bytes look like a UDP header but are the middle of one. */
		struct vt_l4 l4 = { .proto = IPPROTO_UDP, .sport = 1, .dport = 2,
				    .payload_len = 32 };
		size_t n = vt_ipv4_build(buf, sizeof(buf), &ip, &l4);

		assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
		assert_int_equal(pkt.flags, VD_PACKET_FRAGMENT | VD_PACKET_LATER_FRAGMENT);
		assert_addresses(&pkt, 4);
		assert_int_equal(pkt.l4_proto, IPPROTO_UDP);
		assert_int_equal(pkt.sport, 0);
		assert_null(pkt.l4);
		assert_ptr_equal(pkt.payload, buf + 20);
		assert_int_equal(pkt.payload_len, 40);
	}
}

static void ipv4_dont_fragment_is_not_a_fragment(void **state)
{
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_ipv4 ip = { .fragment = VT_IPV4_DF };
	struct vt_l4 l4 = { .proto = IPPROTO_TCP, .sport = 1, .dport = 2 };
	size_t n = vt_ipv4_build(buf, sizeof(buf), &ip, &l4);

	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
	assert_int_equal(pkt.flags, VD_PACKET_L4);
}

/* ---- IPv6 extension headers ---- */

static const struct vt_ext every_ext[] = {
	{ .type = IPPROTO_HOPOPTS },
	{ .type = IPPROTO_ROUTING, .len = 24 },
	{ .type = IPPROTO_DSTOPTS, .len = 16 },
	{ .type = IPPROTO_AH, .len = 24 },
	{ .type = IPPROTO_FRAGMENT, .frag_more = true },
};

static void ipv6_ext_chain(void **state)
{
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_ipv6 ip = { .ext = every_ext, .n_ext = 5, .hop_limit = 255 };
	struct vt_l4 l4 = { .proto = IPPROTO_UDP, .sport = 546, .dport = 547,
			    .payload_len = 20, .udp_len_adjust = 1000 };
	size_t n = vt_ipv6_build(buf, sizeof(buf), &ip, &l4);

	assert_int_equal(vt_ipv6_ext_len(&ip), 80);
	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
	assert_int_equal(pkt.flags, VD_PACKET_FRAGMENT | VD_PACKET_L4);
	assert_addresses(&pkt, 6);
	assert_int_equal(pkt.ttl, 255);
	assert_int_equal(pkt.ext_headers, 5);
	assert_int_equal(pkt.l4_proto, IPPROTO_UDP);
	assert_int_equal(pkt.sport, 546);
	assert_int_equal(pkt.dport, 547);
	assert_layout(&pkt, buf, n, 120, 8, 20);
}

/* The walk stops at a later fragment: what follows its header is the
 * middle of the datagram, even if the next-header byte names a header. */
static void ipv6_later_fragment(void **state)
{
	const struct vt_ext ext[] = {
		{ .type = IPPROTO_HOPOPTS },
		{ .type = IPPROTO_FRAGMENT, .frag_offset = 100 },
		{ .type = IPPROTO_DSTOPTS },
	};
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_ipv6 ip = { .ext = ext, .n_ext = 3 };
	struct vt_l4 l4 = { .proto = IPPROTO_TCP, .sport = 80, .dport = 81 };
	size_t n = vt_ipv6_build(buf, sizeof(buf), &ip, &l4);

	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
	assert_int_equal(pkt.flags, VD_PACKET_FRAGMENT | VD_PACKET_LATER_FRAGMENT);
	assert_int_equal(pkt.ext_headers, 2);
	assert_int_equal(pkt.l3_header_len, 56);
	assert_int_equal(pkt.l4_proto, IPPROTO_DSTOPTS);
	assert_null(pkt.l4);
	assert_int_equal(pkt.sport, 0);
	assert_ptr_equal(pkt.payload, buf + 56);
	assert_int_equal(pkt.payload_len, n - 56);
}

static void ipv6_ext_chain_limit(void **state)
{
	struct vt_ext ext[VD_PACKET_MAX_EXT_HEADERS + 1];
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_ipv6 ip = { .ext = ext, .n_ext = VD_PACKET_MAX_EXT_HEADERS };
	struct vt_l4 l4 = { .proto = IPPROTO_UDP, .sport = 7, .dport = 9 };
	size_t n;

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		ext[i] = (struct vt_ext){ .type = IPPROTO_DSTOPTS };
	n = vt_ipv6_build(buf, sizeof(buf), &ip, &l4);
	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
	assert_int_equal(pkt.ext_headers, VD_PACKET_MAX_EXT_HEADERS);
	assert_int_equal(pkt.dport, 9);

	ip.n_ext++;
	n = vt_ipv6_build(buf, sizeof(buf), &ip, &l4);
	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_IPV6_EXT_CHAIN);
	assert_int_equal(pkt.ext_headers, VD_PACKET_MAX_EXT_HEADERS);
	assert_int_equal(pkt.l3_header_len, 40 + 8 * VD_PACKET_MAX_EXT_HEADERS);
	assert_addresses(&pkt, 6); /* the fixed header stays valid */
	assert_int_equal(pkt.l4_proto, 0);
	assert_no_l4(&pkt);
}

static void assert_ext_overrun(const uint8_t *buf, size_t n, uint8_t walked)
{
	struct vd_packet pkt;

	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_IPV6_EXT_OVERRUN);
	assert_int_equal(pkt.flags, 0);
	assert_int_equal(pkt.ip_version, 6);
	assert_int_equal(pkt.ext_headers, walked);
	assert_int_equal(pkt.l4_proto, 0);
	assert_no_l4(&pkt);
}

static void ipv6_ext_overrun(void **state)
{
	const struct vt_ext hbh_ah[] = { { .type = IPPROTO_HOPOPTS }, { .type = IPPROTO_AH } };
	uint8_t buf[VT_PACKET_MAX];
	struct vt_ipv6 ip = { .ext = hbh_ah, .n_ext = 1 };
	struct vt_l4 l4 = { .proto = IPPROTO_UDP };
	size_t n = vt_ipv6_build(buf, sizeof(buf), &ip, &l4);

	/* The header's length byte says 24 bytes; 16 are left. */
	buf[41] = 2;
	assert_ext_overrun(buf, n, 0);

	/* An AH length byte saying 24 bytes where 20 are left. */
	ip.n_ext = 2;
	n = vt_ipv6_build(buf, sizeof(buf), &ip, &l4);
	buf[49] = (uint8_t)(buf[49] + 3);
	assert_ext_overrun(buf, n, 1);

	/* The datagram ends before (or one byte into) the next header's two
	 * length bytes. */
	for (size_t extra = 0; extra < 2; extra++) {
		struct vt_l4 dstopts = { .proto = IPPROTO_DSTOPTS, .payload_len = extra };

		ip.n_ext = 1;
		n = vt_ipv6_build(buf, sizeof(buf), &ip, &dstopts);
		assert_ext_overrun(buf, n, 1);
	}
}

/* ESP and no-next-header end the walk with nothing decoded after them. */
static void ipv6_walk_enders(void **state)
{
	const struct vt_ext dstopts[] = { { .type = IPPROTO_DSTOPTS } };
	uint8_t enders[] = { IPPROTO_ESP, IPPROTO_NONE };
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_ipv6 ip = { .ext = dstopts, .n_ext = 1 };

	for (size_t i = 0; i < sizeof(enders); i++) {
		struct vt_l4 l4 = { .proto = enders[i], .payload_len = 16 };
		size_t n = vt_ipv6_build(buf, sizeof(buf), &ip, &l4);

		assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
		assert_int_equal(pkt.flags, 0);
		assert_int_equal(pkt.ext_headers, 1);
		assert_int_equal(pkt.l4_proto, enders[i]);
		assert_layout(&pkt, buf, n, 48, 0, 16);
	}
}

/* Payload length 0 (jumbogram, BIG TCP): the datagram is the packet. */
static void ipv6_jumbo(void **state)
{
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_ipv6 ip = { .jumbo = true };
	struct vt_l4 l4 = { .proto = IPPROTO_TCP, .sport = 443, .dport = 40000,
			    .payload_len = 2000 };
	size_t n = vt_ipv6_build(buf, sizeof(buf), &ip, &l4);

	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
	assert_int_equal(pkt.sport, 443);
	assert_layout(&pkt, buf, n, 40, 20, 2000);

	/* Cut by the copy range: the wire length still bounds the datagram. */
	assert_int_equal(vt_parse(&pkt, buf, 100, 64000), VD_PARSE_OK);
	assert_int_equal(pkt.flags, VD_PACKET_TRUNCATED | VD_PACKET_L4);
	assert_layout(&pkt, buf, 100, 40, 20, 40);
}

/* ---- every parse error ---- */

static void error_empty_and_version(void **state)
{
	uint8_t buf[VT_PACKET_MAX] = { 0 };
	struct vd_packet pkt;

	assert_int_equal(vt_parse(&pkt, buf, 0, 0), VD_PARSE_EMPTY);
	assert_int_equal(pkt.parse_error, VD_PARSE_EMPTY);
	assert_no_l3(&pkt);
	assert_int_equal(vt_parse(&pkt, buf, 0, 1500), VD_PARSE_EMPTY);
	assert_int_equal(pkt.flags, VD_PACKET_TRUNCATED);

	for (unsigned nibble = 0; nibble < 16; nibble++) {
		if (nibble == 4 || nibble == 6)
			continue;
		buf[0] = (uint8_t)(nibble << 4 | 5);
		assert_int_equal(vt_parse(&pkt, buf, 60, 60), VD_PARSE_IP_VERSION);
		assert_no_l3(&pkt);
	}
}

static void error_ipv4_header(void **state)
{
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_l4 l4 = { .proto = IPPROTO_UDP, .payload_len = 30 };
	size_t n = vt_ipv4_build(buf, sizeof(buf), NULL, &l4);

	assert_int_equal(vt_parse(&pkt, buf, 19, 19), VD_PARSE_IPV4_SHORT);
	assert_no_l3(&pkt);

	n = vt_ipv4_build(buf, sizeof(buf), &(struct vt_ipv4){ .ihl = 4 }, &l4);
	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_IPV4_HEADER_LEN);
	assert_no_l3(&pkt);
	/* IHL 15 says 60 bytes of header; 58 were captured. */
	n = vt_ipv4_build(buf, sizeof(buf), &(struct vt_ipv4){ .ihl = 15 }, &l4);
	assert_int_equal(n, 58);
	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_IPV4_HEADER_LEN);
	assert_int_equal(vt_parse(&pkt, buf, n, 1500), VD_PARSE_IPV4_HEADER_LEN);

	n = vt_ipv4_build(buf, sizeof(buf), &(struct vt_ipv4){ .options_len = 4,
		.total_len_adjust = -39 }, &l4);
	assert_int_equal(buf[3], 23); /* total length 23 < header length 24 */
	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_IPV4_TOTAL_LEN);
	assert_no_l3(&pkt);
}

static void error_ipv4_truncated(void **state)
{
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_l4 l4 = { .proto = IPPROTO_UDP, .payload_len = 30 };
	size_t n = vt_ipv4_build(buf, sizeof(buf), &(struct vt_ipv4){ .total_len_adjust = 1 },
				 &l4);

	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_IPV4_TRUNCATED);
	assert_int_equal(pkt.flags, 0);
	assert_no_l3(&pkt);
	/* Past the wire length too, so not the copy range's doing. */
	assert_int_equal(vt_parse(&pkt, buf, 40, n), VD_PARSE_IPV4_TRUNCATED);
	assert_int_equal(pkt.flags, VD_PACKET_TRUNCATED);
	/* Within the wire length: a capture cut, parsed as far as it goes. */
	assert_int_equal(vt_parse(&pkt, buf, 40, n + 1), VD_PARSE_OK);
	assert_int_equal(pkt.flags, VD_PACKET_TRUNCATED | VD_PACKET_L4);
	assert_layout(&pkt, buf, 40, 20, 8, 12);
}

static void error_ipv6_header(void **state)
{
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_l4 l4 = { .proto = IPPROTO_TCP, .payload_len = 10 };
	size_t n = vt_ipv6_build(buf, sizeof(buf), NULL, &l4);

	assert_int_equal(vt_parse(&pkt, buf, 39, 39), VD_PARSE_IPV6_SHORT);
	assert_no_l3(&pkt);
	assert_int_equal(vt_parse(&pkt, buf, 39, n), VD_PARSE_IPV6_SHORT);
	assert_int_equal(pkt.flags, VD_PACKET_TRUNCATED);

	n = vt_ipv6_build(buf, sizeof(buf), &(struct vt_ipv6){ .payload_len_adjust = 1 }, &l4);
	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_IPV6_TRUNCATED);
	assert_no_l3(&pkt);
	assert_int_equal(vt_parse(&pkt, buf, n, n + 1), VD_PARSE_OK);
	assert_int_equal(pkt.flags, VD_PACKET_TRUNCATED | VD_PACKET_L4);
}

/* Builds a packet whose datagram ends keep bytes into the L4 header. */
static size_t build_l4_cut(int v, uint8_t *buf, const struct vt_l4 *l4, uint32_t header,
			   uint32_t keep)
{
	int shrink = (int)keep - (int)header;
	struct vt_ipv4 ip4 = { .total_len_adjust = shrink };
	struct vt_ipv6 ip6 = { .payload_len_adjust = shrink };

	if (v == 4)
		return vt_ipv4_build(buf, VT_PACKET_MAX, &ip4, l4) - (header - keep);
	return vt_ipv6_build(buf, VT_PACKET_MAX, &ip6, l4) - (header - keep);
}

static void error_l4_short(void **state)
{
	int v = version_of(state);
	const struct { uint8_t proto; uint32_t header, need; } cases[] = {
		{ IPPROTO_TCP, 20, 20 }, { IPPROTO_UDP, 8, 8 },
		{ icmp_proto(v), 8, 4 }, { IPPROTO_SCTP, 12, 12 },
	};
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vt_l4 l4 = { .proto = cases[i].proto, .sport = 1, .dport = 2 };

		for (uint32_t keep = 0; keep < cases[i].need; keep++) {
			size_t n = build_l4_cut(v, buf, &l4, cases[i].header, keep);

			assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_L4_SHORT);
			assert_int_equal(pkt.flags, 0);
			assert_addresses(&pkt, v);
			assert_int_equal(pkt.l4_proto, cases[i].proto);
			assert_int_equal(pkt.l3_len, n);
			assert_no_l4(&pkt);
		}
	}
}

static void error_tcp_header_len(void **state)
{
	int v = version_of(state);
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	uint8_t offsets[] = { 1, 4, 13, 15 }; /* 13 * 4 = 52 > 20 + 30 */

	for (size_t i = 0; i < sizeof(offsets); i++) {
		struct vt_l4 l4 = { .proto = IPPROTO_TCP, .tcp_data_offset = offsets[i],
				    .sport = 1, .payload_len = 30 };
		size_t n = build(v, buf, &l4);

		assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_TCP_HEADER_LEN);
		assert_addresses(&pkt, v);
		assert_no_l4(&pkt);
		/* A longer wire length does not change what the datagram says. */
		assert_int_equal(vt_parse(&pkt, buf, n, n + 100), VD_PARSE_TCP_HEADER_LEN);
	}
}

static void error_udp_len(void **state)
{
	int v = version_of(state);
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	int adjusts[] = { -1, -8, -18, 1, 1000 };

	for (size_t i = 0; i < sizeof(adjusts) / sizeof(adjusts[0]); i++) {
		struct vt_l4 l4 = { .proto = IPPROTO_UDP, .sport = 1, .payload_len = 10,
				    .udp_len_adjust = adjusts[i] };
		size_t n = build(v, buf, &l4);
		enum vd_parse_error want = adjusts[i] < -10 || adjusts[i] > 0 ?
					   VD_PARSE_UDP_LEN : VD_PARSE_OK;

		assert_int_equal(vt_parse(&pkt, buf, n, n), want);
		if (want == VD_PARSE_OK) {
			assert_int_equal(pkt.sport, 1);
			/* UDP shorter than the IP payload: the rest is not payload */
			assert_int_equal(pkt.payload_len, 10 + adjusts[i]);
			assert_int_equal(pkt.l4_len, 18);
		} else {
			assert_no_l4(&pkt);
		}
	}
}

/* ---- capture truncation (copy range shorter than the packet) ---- */

static void capture_cut_l4(void **state)
{
	int v = version_of(state);
	uint32_t h = ip_header_len(v);
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_l4 tcp = { .proto = IPPROTO_TCP, .sport = 1234, .dport = 80,
			     .tcp_options_len = 20, .payload_len = 500 };
	struct vt_l4 udp = { .proto = IPPROTO_UDP, .sport = 1234, .dport = 53,
			     .payload_len = 500 };
	size_t n = build(v, buf, &tcp);

	/* The TCP options are cut: the ports are there, the header is not. */
	assert_int_equal(vt_parse(&pkt, buf, h + 30, n), VD_PARSE_L4_SHORT);
	assert_int_equal(pkt.flags, VD_PACKET_TRUNCATED);
	assert_addresses(&pkt, v);
	assert_int_equal(pkt.l3_len, h + 30);
	assert_int_equal(pkt.l4_proto, IPPROTO_TCP);
	assert_no_l4(&pkt);

	/* A whole header and part of the payload is a good packet view. */
	assert_int_equal(vt_parse(&pkt, buf, h + 50, n), VD_PARSE_OK);
	assert_int_equal(pkt.flags, VD_PACKET_TRUNCATED | VD_PACKET_L4);
	assert_int_equal(pkt.dport, 80);
	assert_layout(&pkt, buf, h + 50, h, 40, 10);

	n = build(v, buf, &udp);
	assert_int_equal(vt_parse(&pkt, buf, h + 8, n), VD_PARSE_OK);
	assert_int_equal(pkt.dport, 53);
	assert_layout(&pkt, buf, h + 8, h, 8, 0);
}

/* A valid packet and what the parser must find in each prefix of it. */
struct cut_case {
	uint8_t buf[VT_PACKET_MAX];
	size_t len;
	int version;
	uint8_t proto;
	uint32_t ip_fixed;      /* bytes before the IP header checks out */
	uint32_t l3_header_len; /* with extension headers */
	uint32_t l4_need;       /* L4 bytes before VD_PACKET_L4 */
	uint32_t l4_header_len; /* where the payload starts */
	uint16_t sport, dport;
	uint8_t icmp_type;
};

static enum vd_parse_error ip_error_at(const struct cut_case *c, size_t cut)
{
	if (cut == 0)
		return VD_PARSE_EMPTY;
	if (c->version == 6)
		return cut < 40 ? VD_PARSE_IPV6_SHORT : VD_PARSE_IPV6_TRUNCATED;
	if (cut < 20)
		return VD_PARSE_IPV4_SHORT;
	return cut < c->ip_fixed ? VD_PARSE_IPV4_HEADER_LEN : VD_PARSE_IPV4_TRUNCATED;
}

/* len == caplen: the packet claims more than it has, so it is malformed. */
static void check_cut_malformed(const struct cut_case *c, size_t cut)
{
	uint8_t *copy = vt_copy_exact(c->buf, cut);
	struct vd_packet pkt;

	assert_int_equal(vt_parse(&pkt, copy, cut, cut), ip_error_at(c, cut));
	assert_int_equal(pkt.flags, 0);
	assert_no_l3(&pkt);
	free(copy);
}

static void check_cut_l4(const struct cut_case *c, const struct vd_packet *pkt,
			 const uint8_t *copy, size_t cut)
{
	uint32_t l4_bytes = (uint32_t)cut - c->l3_header_len;
	uint32_t header = l4_bytes < c->l4_header_len ? l4_bytes : c->l4_header_len;

	assert_int_equal(pkt->l4_proto, c->proto);
	if (l4_bytes < c->l4_need) {
		assert_int_equal(pkt->parse_error, VD_PARSE_L4_SHORT);
		assert_no_l4(pkt);
		return;
	}
	assert_int_equal(pkt->parse_error, VD_PARSE_OK);
	assert_true(vd_packet_has_l4(pkt));
	assert_int_equal(pkt->sport, c->sport);
	assert_int_equal(pkt->dport, c->dport);
	assert_int_equal(pkt->icmp_type, c->icmp_type);
	assert_layout(pkt, copy, (uint32_t)cut, c->l3_header_len, header, l4_bytes - header);
}

/* len == the full length: the copy range cut it, and whatever was
 * captured must be parsed as far as it goes. */
static void check_cut_captured(const struct cut_case *c, size_t cut)
{
	uint8_t *copy = vt_copy_exact(c->buf, cut);
	struct vd_packet pkt;
	uint32_t src_at = c->version == 4 ? 12 : 8, addr_len = c->version == 4 ? 4 : 16;

	vt_parse(&pkt, copy, cut, c->len);
	assert_int_equal(pkt.flags & VD_PACKET_TRUNCATED,
			 cut < c->len ? VD_PACKET_TRUNCATED : 0);
	if (cut < c->ip_fixed) {
		assert_int_equal(pkt.parse_error, ip_error_at(c, cut));
		assert_no_l3(&pkt);
	} else {
		assert_int_equal(pkt.ip_version, c->version);
		assert_ptr_equal(pkt.src, copy + src_at);
		assert_memory_equal(pkt.dst, c->buf + src_at + addr_len, addr_len);
		assert_int_equal(pkt.l3_len, cut);
		if (cut < c->l3_header_len)
			assert_int_equal(pkt.parse_error, VD_PARSE_IPV6_EXT_OVERRUN);
		else
			check_cut_l4(c, &pkt, copy, cut);
	}
	free(copy);
}

static void check_every_cut(const struct cut_case *c)
{
	for (size_t cut = 0; cut <= c->len; cut++) {
		if (cut < c->len)
			check_cut_malformed(c, cut);
		check_cut_captured(c, cut);
	}
}

static void cut_ipv4_tcp_options(void **state)
{
	static struct cut_case c = { .version = 4, .proto = IPPROTO_TCP, .ip_fixed = 32,
				     .l3_header_len = 32, .l4_need = 28, .l4_header_len = 28,
				     .sport = 51000, .dport = 25 };
	struct vt_ipv4 ip = { .options_len = 12 };
	struct vt_l4 l4 = { .proto = IPPROTO_TCP, .sport = 51000, .dport = 25,
			    .tcp_options_len = 8, .payload_len = 7 };

	c.len = vt_ipv4_build(c.buf, sizeof(c.buf), &ip, &l4);
	check_every_cut(&c);
}

static void cut_ipv6_ext_udp(void **state)
{
	static struct cut_case c = { .version = 6, .proto = IPPROTO_UDP, .ip_fixed = 40,
				     .l3_header_len = 120, .l4_need = 8, .l4_header_len = 8,
				     .sport = 500, .dport = 4500 };
	struct vt_ipv6 ip = { .ext = every_ext, .n_ext = 5 };
	struct vt_l4 l4 = { .proto = IPPROTO_UDP, .sport = 500, .dport = 4500,
			    .payload_len = 9 };

	c.len = vt_ipv6_build(c.buf, sizeof(c.buf), &ip, &l4);
	check_every_cut(&c);
}

static void cut_icmpv6(void **state)
{
	static struct cut_case c = { .version = 6, .proto = IPPROTO_ICMPV6, .ip_fixed = 40,
				     .l3_header_len = 40, .l4_need = 4, .l4_header_len = 8,
				     .icmp_type = 135 };
	struct vt_l4 l4 = { .proto = IPPROTO_ICMPV6, .icmp_type = 135, .payload_len = 24 };

	c.len = vt_ipv6_build(c.buf, sizeof(c.buf), NULL, &l4);
	check_every_cut(&c);
}

/* ---- the view around the parser ---- */

/* BIG TCP: a GSO IPv4 packet over 64 KiB says total length 0; its length is
 * the kernel's. Without GSO the same header is malformed. */
static void big_tcp_total_length_zero(void **state)
{
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_l4 l4 = { .proto = IPPROTO_TCP, .sport = 1, .dport = 2, .payload_len = 100 };
	size_t n = build(4, buf, &l4);

	(void)state;
	buf[2] = 0;
	buf[3] = 0;
	vd_packet_view_init(&pkt, buf, (uint32_t)n, 70000);
	pkt.flags |= VD_PACKET_GSO;
	assert_int_equal(vd_packet_parse(&pkt), VD_PARSE_OK);
	assert_int_equal(pkt.dport, 2);
	assert_int_equal(pkt.l3_len, n);
	assert_true(pkt.flags & VD_PACKET_TRUNCATED);

	vd_packet_view_init(&pkt, buf, (uint32_t)n, 70000);
	assert_int_equal(vd_packet_parse(&pkt), VD_PARSE_IPV4_TOTAL_LEN);
}

static void metadata_survives_parse(void **state)
{
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_l4 l4 = { .proto = IPPROTO_TCP, .sport = 1, .dport = 2 };
	size_t n = build(4, buf, &l4);

	vt_parse(&pkt, buf, n, n);
	pkt.id = 77;
	pkt.queue = 3;
	pkt.hw_protocol = 0x0800;
	pkt.meta = VD_META_MARK | VD_META_INDEV | VD_META_SECCTX;
	pkt.mark = 0xdeadbeef;
	pkt.indev = 5;
	pkt.secctx = "system_u";
	pkt.secctx_len = 8;
	pkt.timestamp_ns = 123456789;
	pkt.hwaddr[5] = 0xaa;
	pkt.flags |= VD_PACKET_GSO | VD_PACKET_CSUM_NOT_READY;

	/* Garbage in the same view: the stale parser fields must go. */
	buf[0] = 0x45;
	buf[3] = 10; /* total length below the header length */
	assert_int_equal(vd_packet_parse(&pkt), VD_PARSE_IPV4_TOTAL_LEN);
	assert_no_l3(&pkt);
	assert_int_equal(pkt.flags, VD_PACKET_GSO | VD_PACKET_CSUM_NOT_READY);
	assert_int_equal(pkt.id, 77);
	assert_int_equal(pkt.queue, 3);
	assert_int_equal(pkt.hw_protocol, 0x0800);
	assert_int_equal(pkt.meta, VD_META_MARK | VD_META_INDEV | VD_META_SECCTX);
	assert_int_equal(pkt.mark, 0xdeadbeef);
	assert_int_equal(pkt.indev, 5);
	assert_string_equal(pkt.secctx, "system_u");
	assert_int_equal(pkt.timestamp_ns, 123456789);
	assert_int_equal(pkt.hwaddr[5], 0xaa);
	assert_ptr_equal(pkt.data, buf);
	assert_int_equal(pkt.caplen, n);
}

static void view_init_resets(void **state)
{
	uint8_t buf[64] = { 0x45 };
	struct vd_packet pkt;

	memset(&pkt, 0xff, sizeof(pkt));
	vd_packet_view_init(&pkt, buf, 60, 20);
	assert_ptr_equal(pkt.data, buf);
	assert_int_equal(pkt.caplen, 60);
	assert_int_equal(pkt.len, 60); /* never below caplen */
	assert_int_equal(pkt.flags, 0);
	assert_int_equal(pkt.mark, 0);
	assert_int_equal(pkt.meta, 0);
	assert_null(pkt.secctx);
	assert_null(pkt.l3);

	vd_packet_view_init(&pkt, buf, 60, 1500);
	assert_int_equal(pkt.len, 1500);
	assert_int_equal(pkt.flags, VD_PACKET_TRUNCATED);
}

static void error_strings(void **state)
{
	for (int a = 0; a < VD_PARSE_ERROR_COUNT; a++) {
		const char *s = vd_parse_error_str((enum vd_parse_error)a);

		assert_non_null(s);
		assert_true(strlen(s) > 0);
		assert_string_not_equal(s, "unknown parse error");
		for (int b = 0; b < a; b++)
			assert_string_not_equal(s, vd_parse_error_str((enum vd_parse_error)b));
	}
	assert_string_equal(vd_parse_error_str(VD_PARSE_IPV4_HEADER_LEN), "IPv4 header length");
	assert_string_equal(vd_parse_error_str(VD_PARSE_ERROR_COUNT), "unknown parse error");
	assert_string_equal(vd_parse_error_str((enum vd_parse_error)200), "unknown parse error");
}

static void address_strings(void **state)
{
	uint8_t buf[VT_PACKET_MAX];
	struct vd_packet pkt;
	struct vt_l4 l4 = { .proto = IPPROTO_UDP };
	char text[INET6_ADDRSTRLEN] = "stale";
	size_t n = build(6, buf, &l4);

	vt_parse(&pkt, buf, n, n);
	assert_ptr_equal(vd_packet_dst_str(&pkt, text, sizeof(text)), text);
	assert_string_equal(text, VT_IPV6_DST);
	/* Too small for the address: empty, not a cut-off address. */
	assert_string_equal(vd_packet_src_str(&pkt, text, 8), "");
	assert_string_equal(vd_packet_src_str(&pkt, text, 0), "");

	n = build(4, buf, &l4);
	vt_parse(&pkt, buf, n, n);
	assert_string_equal(vd_packet_src_str(&pkt, text, sizeof(VT_IPV4_SRC)), VT_IPV4_SRC);
	assert_string_equal(vd_packet_src_str(&pkt, text, sizeof(VT_IPV4_SRC) - 1), "");

	vt_parse(&pkt, buf, 10, 10);
	assert_ptr_equal(vd_packet_src_str(&pkt, text, sizeof(text)), text);
	assert_string_equal(text, "");
	assert_string_equal(vd_packet_dst_str(&pkt, text, sizeof(text)), "");
	assert_int_equal(vd_packet_src_v4(&pkt), 0);
}

/* A test run once per IP version, named after both. */
#define BOTH(f) { #f " ipv4", f, NULL, NULL, &ipv4 }, { #f " ipv6", f, NULL, NULL, &ipv6 }

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(tcp_ports_flags),
		BOTH(udp_ports),
		BOTH(icmp_type_code),
		BOTH(icmp_short_header),
		BOTH(sctp_ports),
		BOTH(other_protocol),
		BOTH(trailing_padding),
		cmocka_unit_test(ipv4_options),
		cmocka_unit_test(ipv4_first_fragment),
		cmocka_unit_test(ipv4_later_fragment),
		cmocka_unit_test(ipv4_dont_fragment_is_not_a_fragment),
		cmocka_unit_test(ipv6_ext_chain),
		cmocka_unit_test(ipv6_later_fragment),
		cmocka_unit_test(ipv6_ext_chain_limit),
		cmocka_unit_test(ipv6_ext_overrun),
		cmocka_unit_test(ipv6_walk_enders),
		cmocka_unit_test(ipv6_jumbo),
		cmocka_unit_test(error_empty_and_version),
		cmocka_unit_test(error_ipv4_header),
		cmocka_unit_test(error_ipv4_truncated),
		cmocka_unit_test(error_ipv6_header),
		BOTH(error_l4_short),
		BOTH(error_tcp_header_len),
		BOTH(error_udp_len),
		BOTH(capture_cut_l4),
		cmocka_unit_test(cut_ipv4_tcp_options),
		cmocka_unit_test(cut_ipv6_ext_udp),
		cmocka_unit_test(cut_icmpv6),
		cmocka_unit_test(big_tcp_total_length_zero),
		cmocka_unit_test(metadata_survives_parse),
		cmocka_unit_test(view_init_resets),
		cmocka_unit_test(error_strings),
		cmocka_unit_test(address_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
