/* test_parse.c - unit tests for engine/parse.c, the packet parser: valid
 * packets, IPv4 options and fragments, IPv6 extension headers, the view
 * around the parser. Errors and truncation: test_parse_errors.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "parse_fixture.h"

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
	/* The fields appended after the parser's (source, NFLOG attributes). */
	pkt.source = VD_SOURCE_NFLOG;
	pkt.prefix = "log-in";
	pkt.seq = 9;
	pkt.vlan_tci = 42;
	pkt.l2_header_len = 14;

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
	assert_int_equal(pkt.source, VD_SOURCE_NFLOG);
	assert_string_equal(pkt.prefix, "log-in");
	assert_int_equal(pkt.seq, 9);
	assert_int_equal(pkt.vlan_tci, 42);
	assert_int_equal(pkt.l2_header_len, 14);
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
		cmocka_unit_test(big_tcp_total_length_zero),
		cmocka_unit_test(metadata_survives_parse),
		cmocka_unit_test(view_init_resets),
		cmocka_unit_test(error_strings),
		cmocka_unit_test(address_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
