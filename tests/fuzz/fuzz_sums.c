/* fuzz_sums.c - checksums and lengths computed here (fuzz_sums.h). */
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include <verdict/packet.h>

#include "fuzz_sums.h"
#include "fuzz_view.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071 over n bytes, added to sum, not folded. */
static uint64_t sum_bytes(const uint8_t *p, size_t n, uint64_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint64_t)p[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Whether a and b are the same one's complement number (0 is 0xffff). */
static bool same_sum(uint16_t a, uint16_t b)
{
	return a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0);
}

struct fuzz_sums fuzz_sums_of(const uint8_t *buf, uint32_t len, bool gso)
{
	struct vd_packet v;
	struct fuzz_sums s = { 0 };
	const uint8_t *l4;
	uint32_t l4_len, field;
	uint64_t pseudo = 0;

	vd_packet_view_init(&v, buf, len, len);
	if (gso)
		v.flags |= VD_PACKET_GSO;
	vd_packet_parse(&v);
	if (!v.l3)
		return s;
	s.ip_len = get16(buf + (v.ip_version == 4 ? 2 : 4));
	if (v.ip_version == 4)
		s.ip4_ok = fold(sum_bytes(buf, v.l3_header_len, 0)) == 0xffff;
	if (!(v.flags & VD_PACKET_L4) || (v.flags & VD_PACKET_FRAGMENT))
		return s;
	l4 = v.l3 + v.l3_header_len;
	l4_len = v.l3_len - v.l3_header_len;
	switch (v.l4_proto) {
	case IPPROTO_TCP:
		field = 16;
		break;
	case IPPROTO_UDP:
		field = 6;
		s.udp_len = get16(l4 + 4);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		field = 2;
		break;
	default:
		return s;
	}
	if (l4_len < field + 2u)
		return s;
	s.verifiable = true;
	s.udp_zero = v.l4_proto == IPPROTO_UDP && get16(l4 + field) == 0;
	if (v.l4_proto != IPPROTO_ICMP) { /* ICMPv4 sums the message alone */
		size_t alen = v.ip_version == 4 ? 4 : 16;

		pseudo = sum_bytes(v.src, alen, pseudo);
		pseudo = sum_bytes(v.dst, alen, pseudo);
		pseudo += v.l4_proto + (uint64_t)(l4_len & 0xffff) + (l4_len >> 16);
		s.partial_ok = same_sum(get16(l4 + field), fold(pseudo));
	}
	s.l4_ok = !s.udp_zero && fold(sum_bytes(l4, l4_len, pseudo)) == 0xffff;
	return s;
}

void fuzz_sums_check(const struct vd_packet_edit *e, const struct fuzz_sums *before, bool gso,
		     enum fuzz_csum_mode mode)
{
	struct fuzz_sums now = fuzz_sums_of(e->buf, e->len, gso);
	int64_t grew = (int64_t)e->len - e->orig_len;

	if (before->ip4_ok)
		FUZZ_CHECK(now.ip4_ok);
	if (before->ip_len) /* 0: a jumbogram or BIG TCP, never resized */
		FUZZ_CHECK((int64_t)now.ip_len - before->ip_len == grew);
	if (before->udp_len)
		FUZZ_CHECK((int64_t)now.udp_len - before->udp_len == grew);
	if (!before->verifiable)
		return;
	FUZZ_CHECK(now.verifiable);
	switch (mode) {
	case FUZZ_CSUM_FULL:
		if (before->l4_ok)
			FUZZ_CHECK(now.l4_ok);
		if (before->udp_zero && e->pkt->ip_version == 4)
			FUZZ_CHECK(now.udp_zero);
		else if (before->udp_zero && e->fields) /* IPv6: computed */
			FUZZ_CHECK(now.l4_ok);
		break;
	case FUZZ_CSUM_STALE:
		if (e->fields)
			FUZZ_CHECK(now.l4_ok);
		break;
	case FUZZ_CSUM_PARTIAL:
		if (before->partial_ok)
			FUZZ_CHECK(now.partial_ok);
		break;
	}
}
