/* fuzz_view.c - the packet view's invariants (fuzz_view.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_view.h"

void fuzz_fail(const char *cond, const char *file, int line)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, cond);
	abort();
}

bool fuzz_within(const void *p, size_t n, const void *lo, size_t lon)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)lo;

	if (!p)
		return n == 0;
	return lo && a >= b && a - b <= lon && n <= lon - (a - b);
}

volatile uint8_t fuzz_sink;

/* Reads n bytes at p so that AddressSanitizer checks them. */
static void touch(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t x = 0;

	for (size_t i = 0; i < n; i++)
		x ^= b[i];
	fuzz_sink = x;
}

static bool is_ip_error(uint8_t e)
{
	return e == VD_PARSE_EMPTY || e == VD_PARSE_IP_VERSION || e == VD_PARSE_IPV4_SHORT ||
	       e == VD_PARSE_IPV4_HEADER_LEN || e == VD_PARSE_IPV4_TOTAL_LEN ||
	       e == VD_PARSE_IPV4_TRUNCATED || e == VD_PARSE_IPV6_SHORT ||
	       e == VD_PARSE_IPV6_TRUNCATED;
}

static bool is_l4_error(uint8_t e)
{
	return e == VD_PARSE_L4_SHORT || e == VD_PARSE_TCP_HEADER_LEN || e == VD_PARSE_UDP_LEN;
}

/* Without an IP header, nothing above it may be set. */
static void check_no_l3(const struct vd_packet *p)
{
	FUZZ_CHECK(p->l3_len == 0 && p->l3_header_len == 0);
	FUZZ_CHECK(!p->src && !p->dst && !p->l4 && !p->payload);
	FUZZ_CHECK(p->l4_len == 0 && p->payload_len == 0);
	FUZZ_CHECK(p->ip_version == 0 && p->ext_headers == 0);
	FUZZ_CHECK(!(p->flags & VD_PACKET_L4));
}

static void check_l3(const struct vd_packet *p)
{
	size_t alen = p->ip_version == 4 ? 4 : 16;
	const uint8_t *l4_start;

	FUZZ_CHECK(p->l3 == p->data);
	FUZZ_CHECK(p->ip_version == 4 || p->ip_version == 6);
	FUZZ_CHECK(p->l3_len <= p->caplen);
	FUZZ_CHECK(p->l3_header_len <= p->l3_len);
	FUZZ_CHECK(p->l3_header_len >= (p->ip_version == 4 ? 20u : 40u));
	FUZZ_CHECK(fuzz_within(p->src, alen, p->l3, p->l3_header_len));
	FUZZ_CHECK(fuzz_within(p->dst, alen, p->l3, p->l3_header_len));
	FUZZ_CHECK(p->ip_version == 6 || p->ext_headers == 0);
	FUZZ_CHECK(p->ext_headers <= VD_PACKET_MAX_EXT_HEADERS);
	l4_start = p->l3 + p->l3_header_len;
	if (p->l4) {
		FUZZ_CHECK(p->l4 == l4_start);
		FUZZ_CHECK(p->l4_len == p->l3_len - p->l3_header_len);
	} else {
		FUZZ_CHECK(p->l4_len == 0);
	}
	if (p->payload)
		FUZZ_CHECK(fuzz_within(p->payload, p->payload_len, l4_start,
				       p->l3_len - p->l3_header_len));
	else
		FUZZ_CHECK(p->payload_len == 0);
	touch(p->src, alen);
	touch(p->dst, alen);
	touch(p->l4, p->l4_len);
	touch(p->payload, p->payload_len);
}

static void check_errors(const struct vd_packet *p)
{
	uint8_t e = p->parse_error;

	FUZZ_CHECK(e < VD_PARSE_ERROR_COUNT);
	if (is_ip_error(e))
		FUZZ_CHECK(p->l3 == NULL);
	if (e != VD_PARSE_OK)
		FUZZ_CHECK(!(p->flags & VD_PACKET_L4));
	if (is_l4_error(e) || e == VD_PARSE_IPV6_EXT_OVERRUN || e == VD_PARSE_IPV6_EXT_CHAIN) {
		FUZZ_CHECK(p->sport == 0 && p->dport == 0 && p->tcp_flags == 0);
		FUZZ_CHECK(p->icmp_type == 0 && p->icmp_code == 0);
		FUZZ_CHECK(p->l4 == NULL && p->payload == NULL);
	}
	if (p->flags & VD_PACKET_L4)
		FUZZ_CHECK(p->l4 != NULL && p->payload != NULL);
	if (p->flags & VD_PACKET_LATER_FRAGMENT)
		FUZZ_CHECK(p->flags & VD_PACKET_FRAGMENT);
}

void fuzz_view_check(const struct vd_packet *pkt, bool parsed)
{
	struct vd_packet again;

	FUZZ_CHECK(pkt->caplen == 0 || pkt->data != NULL);
	FUZZ_CHECK(pkt->len >= pkt->caplen);
	FUZZ_CHECK(!!(pkt->flags & VD_PACKET_TRUNCATED) == (pkt->caplen < pkt->len));
	touch(pkt->data, pkt->caplen);
	check_errors(pkt);
	if (pkt->l3)
		check_l3(pkt);
	else
		check_no_l3(pkt);
	if (parsed) {
		FUZZ_CHECK(pkt->parse_error != VD_PARSE_OK || pkt->l3 != NULL);
		/* The parser reads only data[0, caplen): the same bytes give
		 * the same view, to the byte. */
		memcpy(&again, pkt, sizeof(again));
		FUZZ_CHECK(vd_packet_parse(&again) == pkt->parse_error);
		FUZZ_CHECK(memcmp(&again, pkt, sizeof(again)) == 0);
	}
}

void fuzz_view_check_meta(const struct vd_packet *pkt, const void *msg, size_t len)
{
	FUZZ_CHECK(fuzz_within(pkt->data, pkt->caplen, msg, len));
	FUZZ_CHECK(pkt->hwaddr_len <= sizeof(pkt->hwaddr));
	if (pkt->meta & VD_META_SECCTX)
		FUZZ_CHECK(fuzz_within(pkt->secctx, pkt->secctx_len, msg, len));
	else
		FUZZ_CHECK(pkt->secctx == NULL);
	if (pkt->prefix) {
		const uint8_t *end = (const uint8_t *)msg + len;

		FUZZ_CHECK(pkt->meta & VD_META_PREFIX);
		FUZZ_CHECK(fuzz_within(pkt->prefix, 1, msg, len));
		FUZZ_CHECK(memchr(pkt->prefix, 0, (size_t)(end - (const uint8_t *)pkt->prefix)));
	}
	if (pkt->hw_header)
		FUZZ_CHECK(fuzz_within(pkt->hw_header, pkt->hw_header_len, msg, len));
	else
		FUZZ_CHECK(pkt->hw_header_len == 0);
	if (pkt->l2_header)
		FUZZ_CHECK(fuzz_within(pkt->l2_header, pkt->l2_header_len, msg, len));
	else
		FUZZ_CHECK(pkt->l2_header_len == 0);
	touch(pkt->secctx, pkt->secctx_len);
	touch(pkt->hw_header, pkt->hw_header_len);
	touch(pkt->l2_header, pkt->l2_header_len);
}
