/* parse_fixture.h - shared by the parser's tests (test_parse.c,
 * test_parse_errors.c): packets built once per IP version and the
 * assertions every parse result is checked with. */
#ifndef VD_TEST_PARSE_FIXTURE_H
#define VD_TEST_PARSE_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <verdict/packet.h>

#include "helpers.h"

/* prestate of the tests that run once per IP version */
static int ipv4 = 4, ipv6 = 6;

static inline int version_of(void **state)
{
	return *(int *)*state;
}

static inline size_t build(int version, uint8_t *buf, const struct vt_l4 *l4)
{
	if (version == 4)
		return vt_ipv4_build(buf, VT_PACKET_MAX, NULL, l4);
	return vt_ipv6_build(buf, VT_PACKET_MAX, NULL, l4);
}

static inline uint32_t ip_header_len(int version)
{
	return version == 4 ? 20 : 40;
}

static inline uint8_t icmp_proto(int version)
{
	return version == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
}

static inline void assert_addresses(const struct vd_packet *pkt, int version)
{
	char buf[INET6_ADDRSTRLEN];

	assert_int_equal(pkt->ip_version, version);
	assert_string_equal(vd_packet_src_str(pkt, buf, sizeof(buf)),
			    version == 4 ? VT_IPV4_SRC : VT_IPV6_SRC);
	assert_string_equal(vd_packet_dst_str(pkt, buf, sizeof(buf)),
			    version == 4 ? VT_IPV4_DST : VT_IPV6_DST);
}

/* Where each layer of a packet built at buf starts and how long it is. */
static inline void assert_layout(const struct vd_packet *pkt, const uint8_t *buf, uint32_t l3_len,
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
static inline void assert_no_l4(const struct vd_packet *pkt)
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
static inline void assert_no_l3(const struct vd_packet *pkt)
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

/* One of each IPv6 extension header the parser walks. */
static const struct vt_ext every_ext[] = {
	{ .type = IPPROTO_HOPOPTS },
	{ .type = IPPROTO_ROUTING, .len = 24 },
	{ .type = IPPROTO_DSTOPTS, .len = 16 },
	{ .type = IPPROTO_AH, .len = 24 },
	{ .type = IPPROTO_FRAGMENT, .frag_more = true },
};

/* A test run once per IP version: state points at ipv4 or ipv6. */
#define BOTH(f) { #f " ipv4", f, NULL, NULL, &ipv4 }, { #f " ipv6", f, NULL, NULL, &ipv6 }

#endif
