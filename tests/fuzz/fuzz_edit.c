/*
 * fuzz_edit.c - the packet editor (engine/lib/packet/edit.c, edit_l4.c) over
 * arbitrary packets and arbitrary sequences of edits, checked against
 * edit.h's contract with a checksum computed here, independently:
 *
 * - a refused call leaves the bytes and the length exactly as they were;
 *   one that keeps the length writes only its field and the checksums, and
 *   says what it edited (fields);
 * - the length never passes the capacity nor 65,535 bytes;
 * - after every call the view equals a fresh parse of the buffer (the view
 *   stays in step), and its pointers lie inside it;
 * - a checksum that verified before the edits verifies after each call: the
 *   IPv4 header's, and the TCP, UDP, ICMP or ICMPv6 one (the pseudo-header
 *   included) of a packet that is not a fragment; an IPv4 UDP checksum of 0
 *   stays 0; once something was edited, a checksum that was stale (an IPv6
 *   UDP checksum of 0, or CSUM_NOT_READY without KEEP_PARTIAL) verifies; with
 *   KEEP_PARTIAL, a field that held the pseudo-header sum still holds it;
 * - the IP length field, and UDP's, move by exactly what the packet grew.
 *
 * Input: byte 0 options (bit 0 GSO, bit 1 CSUM_NOT_READY, bit 2
 * VD_EDIT_KEEP_PARTIAL, bit 3 VD_EDIT_TCP_LENGTH_OK, bit 4 a capture cut
 * one byte short of the wire length), byte 1 tail room in 4-byte units (from
 * 0xf0: a capacity 0-15 bytes short of the packet), byte 2 the number of
 * edits (low 3 bits), bytes 3-4 the
 * packet's length (clipped to what follows), the packet, then the edits (a
 * byte naming each, then its arguments: see apply()).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <verdict/edit.h>
#include <verdict/packet.h>

#include "fuzz_sums.h"
#include "fuzz_view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input, read from the front; reads past the end give zeros. */
struct reader {
	const uint8_t *p;
	size_t left;
};

static uint8_t take8(struct reader *r)
{
	if (!r->left)
		return 0;
	r->left--;
	return *r->p++;
}

static uint16_t take16(struct reader *r)
{
	uint16_t hi = take8(r);

	return (uint16_t)(hi << 8 | take8(r));
}

/* Bytes [lo, hi) of the buffer: what an edit may write besides checksums. */
struct span {
	uint32_t lo, hi;
};

static struct span span_at(uint32_t off, uint32_t n)
{
	return (struct span){ off, off + n };
}

/* Runs one edit read from r and returns its result; *may is where it may
 * write when it keeps the length (checksum fields aside). */
static int apply(struct vd_packet_edit *e, struct reader *r, struct span *may)
{
	const struct vd_packet *p = e->pkt;
	bool v4 = p->ip_version == 4;
	uint32_t l4 = p->l3_header_len, alen = v4 ? 4 : 16;
	uint8_t addr[16], bytes[256];
	uint8_t op = take8(r), ver, n;
	uint16_t a, b;

	switch (op % 11) {
	case 0:
		*may = span_at(v4 ? 8 : 7, 1);
		return vd_packet_edit_set_ttl(e, take8(r));
	case 1:
		*may = span_at(v4 ? 1 : 0, v4 ? 1 : 2);
		return vd_packet_edit_set_dscp(e, take8(r) & 0x7f); /* 64-127: refused */
	case 2:
		*may = span_at(v4 ? 1 : 0, v4 ? 1 : 2);
		return vd_packet_edit_set_ecn(e, take8(r) & 7);
	case 3:
		*may = span_at(6, 2);
		return vd_packet_edit_set_df(e, take8(r) & 1);
	case 4:
	case 5:
		ver = (take8(r) & 1) ? 6 : 4;
		for (size_t i = 0; i < sizeof(addr); i++)
			addr[i] = take8(r);
		if (op % 11 == 4) {
			*may = span_at(v4 ? 12 : 8, alen);
			return vd_packet_edit_set_src(e, ver, addr);
		}
		*may = span_at(v4 ? 16 : 24, alen);
		return vd_packet_edit_set_dst(e, ver, addr);
	case 6:
		*may = span_at(l4, 2);
		return vd_packet_edit_set_sport(e, take16(r));
	case 7:
		*may = span_at(l4 + 2, 2);
		return vd_packet_edit_set_dport(e, take16(r));
	case 8:
		*may = span_at(l4 + 13, 1);
		a = take8(r);
		return vd_packet_edit_set_tcp_flags(e, (uint8_t)a, take8(r));
	case 9:
		*may = span_at(l4 + 20, 40); /* the options */
		return vd_packet_edit_clamp_mss(e, take16(r));
	default:
		/* Offsets mostly inside the payload (+2: some past it). */
		a = take16(r);
		b = take16(r);
		if (p->payload_len + 2u <= UINT16_MAX) {
			a = (uint16_t)(a % (p->payload_len + 2u));
			b = (uint16_t)(b % (p->payload_len + 2u));
		}
		n = take8(r);
		for (unsigned i = 0; i < n; i++)
			bytes[i] = take8(r);
		if (p->payload && a <= b)
			*may = span_at((uint32_t)(p->payload - p->data) + a, (uint32_t)(b - a));
		return vd_packet_edit_replace_payload(e, a, b, bytes, n);
	}
}

/* Where the L4 checksum field is (0: none), as edit.h lists the protocols. */
static uint32_t l4_csum_at(const struct vd_packet *p)
{
	uint32_t l4_len = p->l3_len - p->l3_header_len;

	if (!p->l3 || (p->flags & VD_PACKET_LATER_FRAGMENT))
		return 0;
	switch (p->l4_proto) {
	case IPPROTO_TCP:
		return (p->flags & VD_PACKET_L4) ? p->l3_header_len + 16 : 0;
	case IPPROTO_UDP:
		return (p->flags & VD_PACKET_L4) ? p->l3_header_len + 6 : 0;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return (p->flags & VD_PACKET_L4) ? p->l3_header_len + 2 : 0;
	case IPPROTO_UDPLITE:
	case 33: /* DCCP */
		return l4_len >= 8 ? p->l3_header_len + 6 : 0;
	default:
		return 0;
	}
}

/* A call that kept the length wrote only inside may, the IPv4 header
 * checksum and the L4 checksum field. */
static void check_writes(const struct vd_packet_edit *e, const uint8_t *prev, struct span may)
{
	uint32_t csum = l4_csum_at(e->pkt);

	for (uint32_t i = 0; i < e->len; i++) {
		if (prev[i] == e->buf[i] || (i >= may.lo && i < may.hi))
			continue;
		if (e->pkt->ip_version == 4 && (i == 10 || i == 11))
			continue;
		FUZZ_CHECK(csum && (i == csum || i == csum + 1));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };
	uint8_t opts = take8(&r), room = take8(&r), nops = take8(&r) & 7;
	uint32_t pkt_len = take16(&r), capacity;
	bool gso = opts & 1;
	unsigned options = ((opts & 4) ? VD_EDIT_KEEP_PARTIAL : 0) |
			   ((opts & 8) ? VD_EDIT_TCP_LENGTH_OK : 0);
	enum fuzz_csum_mode mode = !(opts & 2) ? FUZZ_CSUM_FULL : (opts & 4) ? FUZZ_CSUM_PARTIAL : FUZZ_CSUM_STALE;
	struct vd_packet pkt;
	struct vd_packet_edit e;
	struct fuzz_sums before;
	uint8_t *buf, *prev;

	if (pkt_len > r.left)
		pkt_len = (uint32_t)r.left;
	if (room >= 0xf0)
		capacity = pkt_len > room - 0xf0u ? pkt_len - (room - 0xf0u) : 0;
	else
		capacity = pkt_len + room * 4u;
	if (capacity > VD_EDIT_MAX_LEN)
		capacity = VD_EDIT_MAX_LEN;
	/* Exactly capacity bytes (or the packet's), so that AddressSanitizer sees
	 * a write past them. */
	buf = malloc(capacity > pkt_len ? capacity : pkt_len + !pkt_len);
	prev = malloc(capacity > pkt_len ? capacity : pkt_len + !pkt_len);
	if (!buf || !prev)
		abort();
	memcpy(buf, r.p, pkt_len);
	r.p += pkt_len;
	r.left -= pkt_len;

	before = fuzz_sums_of(buf, pkt_len, gso);
	vd_packet_view_init(&pkt, buf, pkt_len, pkt_len + !!(opts & 16));
	if (gso)
		pkt.flags |= VD_PACKET_GSO;
	if (opts & 2)
		pkt.flags |= VD_PACKET_CSUM_NOT_READY;
	vd_packet_parse(&pkt);
	if (vd_packet_edit_init(&e, &pkt, buf, capacity, options) < 0) {
		FUZZ_CHECK(e.reason != VD_EDIT_OK);
		goto out;
	}
	for (unsigned i = 0; i < nops; i++) {
		struct span may = { 0, 0 };
		uint32_t len = e.len;
		int err;

		memcpy(prev, buf, len);
		err = apply(&e, &r, &may);
		FUZZ_CHECK(e.len <= capacity && e.len <= VD_EDIT_MAX_LEN);
		FUZZ_CHECK(pkt.data == buf && pkt.caplen == e.len && pkt.len == e.len);
		fuzz_view_check(&pkt, true);
		if (err < 0) {
			FUZZ_CHECK(e.reason != VD_EDIT_OK);
			FUZZ_CHECK(e.len == len && memcmp(prev, buf, len) == 0);
			continue;
		}
		FUZZ_CHECK(e.reason == VD_EDIT_OK);
		if (memcmp(prev, buf, len) != 0 || e.len != len)
			FUZZ_CHECK(e.fields != 0);
		if (e.len == len)
			check_writes(&e, prev, may);
		fuzz_sums_check(&e, &before, gso, mode);
	}
out:
	free(prev);
	free(buf);
	return 0;
}
