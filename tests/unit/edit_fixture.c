/* edit_fixture.c - see edit_fixture.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "edit_fixture.h"

static uint32_t rng_state = 0x9e3779b9u; /* fixed seed: failures reproduce */

uint32_t vt_rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

uint16_t vt_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}


bool vt_has_l4_checksum(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_ICMP ||
	       proto == IPPROTO_ICMPV6;
}

/* Builds, fills the L4 checksum with the reference, parses, starts the edit. */
void vt_edit_make(struct vt_edit_fixture *f, int v, const struct vt_ipv4 *ip4, const struct vt_ipv6 *ip6,
		 const struct vt_l4 *l4, unsigned options)
{
	memset(f, 0, sizeof(*f));
	f->len = v == 4 ? vt_ipv4_build(f->buf, VT_PACKET_MAX, ip4, l4)
			: vt_ipv6_build(f->buf, VT_PACKET_MAX, ip6, l4);
	if (vt_has_l4_checksum(l4->proto))
		vt_l4_checksum_fill(f->buf, f->len);
	assert_int_equal(vt_parse(&f->pkt, f->buf, f->len, f->len), VD_PARSE_OK);
	assert_int_equal(vd_packet_edit_init(&f->edit, &f->pkt, f->buf, CAPACITY, options), 0);
}

void vt_edit_make_simple(struct vt_edit_fixture *f, int v, uint8_t proto, size_t payload_len)
{
	struct vt_l4 l4 = { .proto = proto, .sport = 1000, .dport = 2000,
			    .tcp_flags = VD_TCP_ACK, .icmp_type = v == 4 ? 8 : 128,
			    .payload_len = payload_len };

	vt_edit_make(f, v, NULL, NULL, &l4, 0);
}

/* Every length and checksum of buf[0, len) is right, and a fresh parse of
 * it agrees with the edit's view. */
void vt_edit_assert_valid(const struct vt_edit_fixture *f, bool udp_zero)
{
	const uint8_t *p = f->buf;
	size_t len = f->edit.len;
	struct vd_packet fresh;
	struct vt_l4_ref ref;

	assert_int_equal(vt_parse(&fresh, p, len, len), VD_PARSE_OK);
	if (p[0] >> 4 == 4) {
		assert_int_equal(vt_be16(p + 2), len);
		assert_int_equal(vt_be16(p + 10), vt_ref_ipv4_checksum(p));
	} else {
		assert_int_equal(vt_be16(p + 4), len - 40);
	}
	if (vt_ref_l4_locate(p, len, &ref)) {
		if (ref.proto == IPPROTO_UDP)
			assert_int_equal(vt_be16(p + ref.l4_off + 4), ref.l4_len);
		if (udp_zero)
			assert_int_equal(vt_be16(p + ref.csum_off), 0);
		else if (vt_be16(p + ref.csum_off) != vt_ref_l4_checksum(p, len))
			fail_msg("L4 checksum %#x, reference %#x", vt_be16(p + ref.csum_off),
				 vt_ref_l4_checksum(p, len));
	}
	assert_int_equal(f->pkt.caplen, len);
	assert_int_equal(f->pkt.ttl, fresh.ttl);
	assert_int_equal(f->pkt.sport, fresh.sport);
	assert_int_equal(f->pkt.dport, fresh.dport);
	assert_int_equal(f->pkt.tcp_flags, fresh.tcp_flags);
	assert_int_equal(f->pkt.payload_len, fresh.payload_len);
	assert_ptr_equal(f->pkt.payload, fresh.payload);
}

