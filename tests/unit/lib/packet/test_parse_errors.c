/* test_parse_errors.c - engine/parse.c on bad input: every parse error, in
 * the order the parser checks, and truncation by the capture at every byte
 * offset. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "parse_fixture.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
