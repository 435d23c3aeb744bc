/* test_edit.c - unit tests for engine/lib/packet/edit.c: a property test of
 * random edits on random packets against the plain reference checksums of
 * helpers.c, every field under IPv4 and IPv6, UDP growth and shrink, the
 * UDP zero rule, CSUM_NOT_READY, the MSS clamp and every refusal. */
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

#include "edit.h"
#include "helpers.h"

#define CAPACITY (VT_PACKET_MAX + 512)

static uint32_t rng_state = 0x9e3779b9u; /* fixed seed: failures reproduce */

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

struct fixture {
	uint8_t buf[CAPACITY];
	size_t len;
	struct vd_packet pkt;
	struct vd_packet_edit edit;
};

static bool has_l4_checksum(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_ICMP ||
	       proto == IPPROTO_ICMPV6;
}

/* Builds, fills the L4 checksum with the reference, parses, starts the edit. */
static void make(struct fixture *f, int v, const struct vt_ipv4 *ip4, const struct vt_ipv6 *ip6,
		 const struct vt_l4 *l4, unsigned options)
{
	memset(f, 0, sizeof(*f));
	f->len = v == 4 ? vt_ipv4_build(f->buf, VT_PACKET_MAX, ip4, l4)
			: vt_ipv6_build(f->buf, VT_PACKET_MAX, ip6, l4);
	if (has_l4_checksum(l4->proto))
		vt_l4_checksum_fill(f->buf, f->len);
	assert_int_equal(vt_parse(&f->pkt, f->buf, f->len, f->len), VD_PARSE_OK);
	assert_int_equal(vd_packet_edit_init(&f->edit, &f->pkt, f->buf, CAPACITY, options), 0);
}

static void make_simple(struct fixture *f, int v, uint8_t proto, size_t payload_len)
{
	struct vt_l4 l4 = { .proto = proto, .sport = 1000, .dport = 2000,
			    .tcp_flags = VD_TCP_ACK, .icmp_type = v == 4 ? 8 : 128,
			    .payload_len = payload_len };

	make(f, v, NULL, NULL, &l4, 0);
}

/* Every length and checksum of buf[0, len) is right, and a fresh parse of
 * it agrees with the edit's view. */
static void assert_packet_valid(const struct fixture *f, bool udp_zero)
{
	const uint8_t *p = f->buf;
	size_t len = f->edit.len;
	struct vd_packet fresh;
	struct vt_l4_ref ref;

	assert_int_equal(vt_parse(&fresh, p, len, len), VD_PARSE_OK);
	if (p[0] >> 4 == 4) {
		assert_int_equal(be16(p + 2), len);
		assert_int_equal(be16(p + 10), vt_ref_ipv4_checksum(p));
	} else {
		assert_int_equal(be16(p + 4), len - 40);
	}
	if (vt_ref_l4_locate(p, len, &ref)) {
		if (ref.proto == IPPROTO_UDP)
			assert_int_equal(be16(p + ref.l4_off + 4), ref.l4_len);
		if (udp_zero)
			assert_int_equal(be16(p + ref.csum_off), 0);
		else if (be16(p + ref.csum_off) != vt_ref_l4_checksum(p, len))
			fail_msg("L4 checksum %#x, reference %#x", be16(p + ref.csum_off),
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

/* ---- the property test ---- */

static void random_address(uint8_t *a, int v)
{
	for (int i = 0; i < (v == 4 ? 4 : 16); i++)
		a[i] = (uint8_t)rng();
}

/* One random edit; returns what it returned. */
static int random_edit(struct fixture *f, int v)
{
	struct vd_packet_edit *e = &f->edit;
	uint8_t addr[16], bytes[40];
	uint32_t start, end, n;

	switch (rng() % 11) {
	case 0: return vd_packet_edit_set_ttl(e, (uint8_t)rng());
	case 1: return vd_packet_edit_set_dscp(e, rng() % 64);
	case 2: return vd_packet_edit_set_ecn(e, rng() % 4);
	case 3: random_address(addr, v); return vd_packet_edit_set_src(e, (uint8_t)v, addr);
	case 4: random_address(addr, v); return vd_packet_edit_set_dst(e, (uint8_t)v, addr);
	case 5: return vd_packet_edit_set_sport(e, (uint16_t)rng());
	case 6: return vd_packet_edit_set_dport(e, (uint16_t)rng());
	case 7: return vd_packet_edit_set_tcp_flags(e, (uint8_t)rng() & 0x3f, 0);
	case 8: return vd_packet_edit_set_df(e, rng() & 1);
	default: break;
	}
	/* A payload range at any (odd) offset, same length or not. */
	start = f->pkt.payload_len ? rng() % (f->pkt.payload_len + 1) : 0;
	end = start + (f->pkt.payload_len - start ? rng() % (f->pkt.payload_len - start + 1) : 0);
	n = rng() % 2 ? end - start : rng() % sizeof(bytes);
	if (n > sizeof(bytes))
		n = sizeof(bytes);
	for (uint32_t i = 0; i < n; i++)
		bytes[i] = (uint8_t)rng();
	return vd_packet_edit_replace_payload(e, start, end, bytes, n);
}

static void property_random_edits(void **state)
{
	static const uint8_t protos4[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP };
	static const uint8_t protos6[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6 };
	static const struct vt_ext exts[] = { { .type = IPPROTO_HOPOPTS },
					      { .type = IPPROTO_DSTOPTS, .len = 16 } };
	struct fixture *f = malloc(sizeof(*f));
	unsigned done = 0, refused = 0;

	(void)state;
	assert_non_null(f);
	for (int round = 0; round < 5000; round++) {
		int v = rng() % 2 ? 4 : 6;
		struct vt_ipv4 ip4 = { .options_len = (uint8_t)(4 * (rng() % 3)),
				       .ttl = (uint8_t)(1 + rng() % 255) };
		struct vt_ipv6 ip6 = { .ext = exts, .n_ext = rng() % 3 };
		struct vt_l4 l4 = { .proto = v == 4 ? protos4[rng() % 3] : protos6[rng() % 3],
				    .sport = (uint16_t)rng(), .dport = (uint16_t)rng(),
				    .tcp_flags = (uint8_t)rng(),
				    .tcp_options_len = (uint8_t)(4 * (rng() % 4)),
				    .icmp_type = (uint8_t)rng(), .payload_len = rng() % 300 };

		make(f, v, &ip4, &ip6, &l4, 0);
		for (int i = 0, edits = 1 + rng() % 6; i < edits; i++) {
			int err = random_edit(f, v);

			if (err) {
				/* Only what this packet cannot have. */
				assert_true(f->edit.reason == VD_EDIT_NO_FIELD ||
					    f->edit.reason == VD_EDIT_TCP_LENGTH);
				refused++;
			} else {
				done++;
			}
			assert_packet_valid(f, false);
		}
	}
	print_message("%u edits done, %u refused\n", done, refused);
	assert_true(done > 10000);
	free(f);
}

/* ---- every field, IPv4 and IPv6 ---- */

static int ipv4 = 4, ipv6 = 6;

static void every_field(void **state)
{
	int v = *(int *)*state;
	struct fixture f;
	uint8_t addr[16];
	const char *text_src = v == 4 ? "203.0.113.7" : "2001:db8:1:2::77";
	const char *text_dst = v == 4 ? "198.18.0.9" : "2001:db8:ff::9";

	make_simple(&f, v, IPPROTO_TCP, 33);
	assert_int_equal(vd_packet_edit_set_ttl(&f.edit, 7), 0);
	assert_int_equal(f.buf[v == 4 ? 8 : 7], 7);
	assert_int_equal(vd_packet_edit_set_dscp(&f.edit, 46), 0);
	assert_int_equal(vd_packet_edit_set_ecn(&f.edit, 3), 0);
	if (v == 4)
		assert_int_equal(f.buf[1], 46 << 2 | 3);
	else
		assert_int_equal((f.buf[0] & 0x0f) << 4 | f.buf[1] >> 4, 46 << 2 | 3);
	assert_int_equal(f.buf[0] >> 4, v); /* the version nibble is untouched */
	if (v == 6)
		assert_int_equal(f.buf[1] & 0x0f, 0); /* nor the flow label */
	assert_int_equal(inet_pton(v == 4 ? AF_INET : AF_INET6, text_src, addr), 1);
	assert_int_equal(vd_packet_edit_set_src(&f.edit, (uint8_t)v, addr), 0);
	assert_memory_equal(f.pkt.src, addr, v == 4 ? 4 : 16);
	assert_int_equal(inet_pton(v == 4 ? AF_INET : AF_INET6, text_dst, addr), 1);
	assert_int_equal(vd_packet_edit_set_dst(&f.edit, (uint8_t)v, addr), 0);
	assert_memory_equal(f.pkt.dst, addr, v == 4 ? 4 : 16);
	assert_int_equal(vd_packet_edit_set_sport(&f.edit, 4242), 0);
	assert_int_equal(vd_packet_edit_set_dport(&f.edit, 8080), 0);
	assert_int_equal(be16(f.pkt.l4), 4242);
	assert_int_equal(be16(f.pkt.l4 + 2), 8080);
	assert_int_equal(vd_packet_edit_set_tcp_flags(&f.edit, VD_TCP_SYN, VD_TCP_ACK), 0);
	assert_int_equal(f.pkt.l4[13], VD_TCP_SYN);
	if (v == 4) {
		assert_int_equal(vd_packet_edit_set_df(&f.edit, true), 0);
		assert_int_equal(be16(f.buf + 6) & 0x4000, 0x4000);
		assert_int_equal(vd_packet_edit_set_df(&f.edit, false), 0);
		assert_int_equal(be16(f.buf + 6) & 0x4000, 0);
	} else {
		assert_int_equal(vd_packet_edit_set_df(&f.edit, true), -ENOPROTOOPT);
		assert_int_equal(f.edit.reason, VD_EDIT_NO_FIELD);
	}
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 3, 7, (const uint8_t *)"WXYZ", 4),
			 0);
	assert_memory_equal(f.pkt.payload + 3, "WXYZ", 4);
	assert_packet_valid(&f, false);
	assert_int_equal(f.edit.fields, VD_EDIT_TTL | VD_EDIT_DSCP | VD_EDIT_ECN | VD_EDIT_SRC |
						VD_EDIT_DST | VD_EDIT_SPORT | VD_EDIT_DPORT |
						VD_EDIT_TCP_FLAGS | VD_EDIT_PAYLOAD |
						(v == 4 ? VD_EDIT_DF : 0));
	assert_false(vd_packet_edit_length_changed(&f.edit));

	/* UDP and ICMP carry their own checksum the same way. */
	make_simple(&f, v, IPPROTO_UDP, 21);
	assert_int_equal(vd_packet_edit_set_dport(&f.edit, 53), 0);
	assert_int_equal(vd_packet_edit_set_src(&f.edit, (uint8_t)v, addr), 0);
	assert_packet_valid(&f, false);
	make_simple(&f, v, v == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, 17);
	assert_int_equal(vd_packet_edit_set_dst(&f.edit, (uint8_t)v, addr), 0);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 0, 5, (const uint8_t *)"x", 1), 0);
	assert_packet_valid(&f, false);
	assert_int_equal(vd_packet_edit_set_dport(&f.edit, 1), -ENOPROTOOPT);
}

/* Writing the value already there changes nothing and records nothing. */
static void same_value_is_no_edit(void **state)
{
	int v = *(int *)*state;
	struct fixture f;
	uint8_t before[CAPACITY], same[5];

	make_simple(&f, v, IPPROTO_TCP, 10);
	memcpy(before, f.buf, f.len);
	assert_int_equal(vd_packet_edit_set_ttl(&f.edit, 64), 0);
	assert_int_equal(vd_packet_edit_set_dport(&f.edit, 2000), 0);
	assert_int_equal(vd_packet_edit_set_tcp_flags(&f.edit, VD_TCP_ACK, 0), 0);
	memcpy(same, f.pkt.payload + 3, 5);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 3, 8, same, 5), 0);
	assert_int_equal(f.edit.fields, 0);
	assert_memory_equal(before, f.buf, f.len);
}

/* ---- UDP payload growth and shrink ---- */

static void udp_grow_shrink(void **state)
{
	int v = *(int *)*state;
	struct fixture f;
	uint8_t ins[16];
	uint32_t h = v == 4 ? 28 : 48;

	memset(ins, 0xab, sizeof(ins));
	make_simple(&f, v, IPPROTO_UDP, 101);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 11, 11, ins, 16), 0);
	assert_int_equal(f.edit.len, h + 117);
	assert_true(vd_packet_edit_length_changed(&f.edit));
	assert_int_equal(f.pkt.payload_len, 117);
	assert_int_equal(f.pkt.payload[10], 10);
	assert_memory_equal(f.pkt.payload + 11, ins, 16);
	assert_int_equal(f.pkt.payload[27], 11); /* what followed moved along */
	assert_int_equal(f.pkt.payload[116], 100);
	assert_packet_valid(&f, false);
	/* Shrink by 50, at an odd offset. */
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 1, 51, NULL, 0), 0);
	assert_int_equal(f.edit.len, h + 67);
	assert_int_equal(f.pkt.payload[0], 0);
	assert_packet_valid(&f, false);
	/* Down to nothing, and back up by an odd count. */
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 0, f.pkt.payload_len, NULL, 0), 0);
	assert_int_equal(f.edit.len, h);
	assert_int_equal(f.pkt.payload_len, 0);
	assert_packet_valid(&f, false);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 0, 0, ins, 7), 0);
	assert_int_equal(f.pkt.payload_len, 7);
	assert_packet_valid(&f, false);
	assert_int_equal(f.edit.fields, VD_EDIT_PAYLOAD);
}

/* ---- UDP checksum zero ---- */

static void udp_zero_rule(void **state)
{
	struct fixture f;
	uint16_t check, port;
	uint32_t sum;

	(void)state;
	/* IPv4 UDP sent without a checksum keeps none. */
	make_simple(&f, 4, IPPROTO_UDP, 20);
	f.buf[26] = f.buf[27] = 0;
	assert_int_equal(vd_packet_edit_init(&f.edit, &f.pkt, f.buf, CAPACITY, 0), 0);
	assert_int_equal(vd_packet_edit_set_dport(&f.edit, 7), 0);
	assert_int_equal(vd_packet_edit_set_dst(&f.edit, 4, (const uint8_t *)"\xc6\x12\0\x09"), 0);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 0, 3, (const uint8_t *)"abcdefg", 7),
			 0);
	assert_packet_valid(&f, true);

	/* A UDP checksum that comes to 0 is sent as 0xffff: pick the port that
	 * makes it so (new port = old port + old checksum, ones' complement). */
	for (int v = 4; v <= 6; v += 2) {
		size_t off = v == 4 ? 26 : 46;

		make_simple(&f, v, IPPROTO_UDP, 20);
		check = be16(f.buf + off);
		sum = 2000u + check;
		port = (uint16_t)((sum & 0xffff) + (sum >> 16));
		assert_int_equal(vd_packet_edit_set_dport(&f.edit, port), 0);
		assert_int_equal(be16(f.buf + off), 0xffff);
		assert_packet_valid(&f, false);
	}

	/* IPv6 UDP with 0 is invalid: the first edit computes it. */
	make_simple(&f, 6, IPPROTO_UDP, 20);
	f.buf[46] = f.buf[47] = 0;
	assert_int_equal(vd_packet_edit_init(&f.edit, &f.pkt, f.buf, CAPACITY, 0), 0);
	assert_int_equal(vd_packet_edit_set_ttl(&f.edit, 9), 0);
	assert_int_not_equal(be16(f.buf + 46), 0);
	assert_packet_valid(&f, false);
}

/* ---- CSUM_NOT_READY ---- */

static void not_ready(struct fixture *f, int v, uint8_t proto, unsigned options)
{
	struct vt_l4_ref ref;

	make_simple(f, v, proto, 31);
	assert_true(vt_ref_l4_locate(f->buf, f->len, &ref));
	/* As the kernel hands it over: the plain pseudo-header sum. */
	f->buf[ref.csum_off] = (uint8_t)(vt_ref_l4_partial(f->buf, f->len) >> 8);
	f->buf[ref.csum_off + 1] = (uint8_t)vt_ref_l4_partial(f->buf, f->len);
	f->pkt.flags |= VD_PACKET_CSUM_NOT_READY;
	assert_int_equal(vd_packet_edit_init(&f->edit, &f->pkt, f->buf, CAPACITY, options), 0);
}

static void csum_not_ready_completed(void **state)
{
	int v = *(int *)*state;
	struct fixture f;
	uint16_t partial;

	for (int i = 0; i < 2; i++) {
		uint8_t proto = i ? IPPROTO_UDP : IPPROTO_TCP;
		size_t off = (v == 4 ? 20u : 40u) + (proto == IPPROTO_TCP ? 16u : 6u);

		not_ready(&f, v, proto, 0);
		partial = be16(f.buf + off);
		/* No change, no completion: the kernel still finishes it. */
		assert_int_equal(vd_packet_edit_set_ttl(&f.edit, 64), 0);
		assert_int_equal(be16(f.buf + off), partial);
		/* A TTL edit alone: the kernel makes the packet CHECKSUM_NONE when
		 * it takes the new bytes, so the L4 checksum is completed. */
		assert_int_equal(vd_packet_edit_set_ttl(&f.edit, 5), 0);
		assert_false(f.pkt.flags & VD_PACKET_CSUM_NOT_READY);
		assert_packet_valid(&f, false);
		assert_int_equal(vd_packet_edit_set_dport(&f.edit, 99), 0);
		assert_packet_valid(&f, false);
	}
	/* A length change alone completes it too. */
	not_ready(&f, v, IPPROTO_UDP, 0);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 0, 0, (const uint8_t *)"++", 2), 0);
	assert_packet_valid(&f, false);
}

static void csum_not_ready_keep_partial(void **state)
{
	int v = *(int *)*state;
	struct fixture f;
	size_t off = v == 4 ? 26 : 46;
	uint8_t addr[16] = { 198, 18, 0, 77 };
	uint16_t before;

	if (v == 6)
		addr[0] = 0x20, addr[1] = 0x01, addr[15] = 0x77;
	not_ready(&f, v, IPPROTO_UDP, VD_EDIT_KEEP_PARTIAL);
	before = be16(f.buf + off);
	/* Bytes the kernel sums later: the partial sum stays. */
	assert_int_equal(vd_packet_edit_set_dport(&f.edit, 99), 0);
	assert_int_equal(vd_packet_edit_set_ttl(&f.edit, 3), 0);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 2, 4, (const uint8_t *)"zz", 2), 0);
	assert_int_equal(be16(f.buf + off), before);
	assert_true(f.pkt.flags & VD_PACKET_CSUM_NOT_READY);
	/* The pseudo-header: address and length move the partial sum. */
	assert_int_equal(vd_packet_edit_set_src(&f.edit, (uint8_t)v, addr), 0);
	assert_int_equal(be16(f.buf + off), vt_ref_l4_partial(f.buf, f.edit.len));
	assert_int_not_equal(be16(f.buf + off), before);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 0, 0, (const uint8_t *)"123", 3),
			 0);
	assert_int_equal(be16(f.buf + off), vt_ref_l4_partial(f.buf, f.edit.len));
	assert_int_equal(be16(f.buf + off - 2), f.edit.len - (v == 4 ? 20 : 40)); /* UDP length */
}

/* ---- MSS clamp ---- */

/* A TCP SYN with these option bytes (a multiple of 4), checksum filled. */
static void make_syn(struct fixture *f, int v, const uint8_t *opts, uint8_t n)
{
	struct vt_l4 l4 = { .proto = IPPROTO_TCP, .tcp_flags = VD_TCP_SYN,
			    .tcp_options_len = n, .sport = 1, .dport = 2 };
	size_t tcp = v == 4 ? 20 : 40;

	memset(f, 0, sizeof(*f));
	f->len = v == 4 ? vt_ipv4_build(f->buf, VT_PACKET_MAX, NULL, &l4)
			: vt_ipv6_build(f->buf, VT_PACKET_MAX, NULL, &l4);
	memcpy(f->buf + tcp + 20, opts, n);
	vt_l4_checksum_fill(f->buf, f->len);
	assert_int_equal(vt_parse(&f->pkt, f->buf, f->len, f->len), VD_PARSE_OK);
	assert_int_equal(vd_packet_edit_init(&f->edit, &f->pkt, f->buf, CAPACITY, 0), 0);
}

static void mss_clamp_layouts(void **state)
{
	int v = *(int *)*state;
	size_t tcp = v == 4 ? 20 : 40;
	struct fixture f;
	/* MSS first (even offset); after a NOP (odd); the kernel's own SYN
	 * layout; twice; after EOL (not an option). */
	static const uint8_t first[] = { 2, 4, 0x05, 0xb4, 1, 1, 1, 0 };
	static const uint8_t after_nop[] = { 1, 2, 4, 0xff, 0xd7, 1, 1, 0 };
	static const uint8_t linux_syn[] = { 2, 4, 0xff, 0xd7, 4, 2, 8, 10, 1, 2, 3, 4,
					     0, 0, 0, 0, 1, 3, 3, 10 };
	static const uint8_t twice[] = { 2, 4, 0x23, 0x28, 1, 2, 4, 0x10, 0x00, 0, 0, 0 };
	static const uint8_t after_eol[] = { 0, 2, 4, 0xff, 0xff, 0, 0, 0 };

	make_syn(&f, v, first, sizeof(first));
	assert_int_equal(vd_packet_edit_clamp_mss(&f.edit, 1400), 0);
	assert_int_equal(be16(f.buf + tcp + 22), 1400);
	assert_int_equal(f.edit.fields, VD_EDIT_MSS);
	assert_packet_valid(&f, false);
	make_syn(&f, v, after_nop, sizeof(after_nop));
	assert_int_equal(vd_packet_edit_clamp_mss(&f.edit, 1360), 0);
	assert_int_equal(be16(f.buf + tcp + 23), 1360);
	assert_packet_valid(&f, false);
	make_syn(&f, v, linux_syn, sizeof(linux_syn));
	assert_int_equal(vd_packet_edit_clamp_mss(&f.edit, 1200), 0);
	assert_int_equal(be16(f.buf + tcp + 22), 1200);
	assert_int_equal(f.buf[tcp + 24], 4); /* SACK-permitted untouched */
	assert_packet_valid(&f, false);
	make_syn(&f, v, twice, sizeof(twice));
	assert_int_equal(vd_packet_edit_clamp_mss(&f.edit, 5000), 0);
	assert_int_equal(be16(f.buf + tcp + 22), 5000);
	assert_int_equal(be16(f.buf + tcp + 27), 4096); /* already below */
	assert_packet_valid(&f, false);
	/* Already small enough, after EOL, or no option: nothing changes. */
	make_syn(&f, v, first, sizeof(first));
	assert_int_equal(vd_packet_edit_clamp_mss(&f.edit, 1460), 0);
	make_syn(&f, v, after_eol, sizeof(after_eol));
	assert_int_equal(vd_packet_edit_clamp_mss(&f.edit, 1000), 0);
	assert_int_equal(be16(f.buf + tcp + 23), 0xffff);
	assert_int_equal(f.edit.fields, 0);
	make_simple(&f, v, IPPROTO_TCP, 0);
	assert_int_equal(vd_packet_edit_clamp_mss(&f.edit, 1000), 0);
	assert_int_equal(f.edit.fields, 0);
	assert_int_equal(vd_packet_edit_clamp_mss(&f.edit, 0), -EINVAL);
	make_simple(&f, v, IPPROTO_UDP, 0);
	assert_int_equal(vd_packet_edit_clamp_mss(&f.edit, 1000), -ENOPROTOOPT);
}

static void mss_clamp_malformed(void **state)
{
	int v = *(int *)*state;
	static const uint8_t bad[][8] = {
		{ 2, 4, 0x05, 0xb4, 8, 0, 1, 1 },  /* length 0 after a good MSS */
		{ 3, 1, 0, 0, 0, 0, 0, 0 },        /* length 1 */
		{ 1, 1, 1, 1, 1, 1, 8, 9 },        /* runs past the header */
		{ 2, 3, 0x05, 0, 0, 0, 0, 0 },     /* MSS of 3 bytes */
		{ 1, 1, 1, 1, 1, 1, 1, 2 },        /* a kind with no length byte */
	};
	struct fixture f;
	uint8_t before[CAPACITY];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_syn(&f, v, bad[i], 8);
		memcpy(before, f.buf, f.len);
		assert_int_equal(vd_packet_edit_clamp_mss(&f.edit, 536), -EBADMSG);
		assert_int_equal(f.edit.reason, VD_EDIT_TCP_OPTIONS);
		assert_memory_equal(before, f.buf, f.len);
	}
}

/* ---- refusals ---- */

static void expect_refusal(struct fixture *f, int err, int want, enum vd_edit_reason reason,
			   const uint8_t *before)
{
	assert_int_equal(err, want);
	assert_int_equal(f->edit.reason, reason);
	assert_non_null(vd_packet_edit_reason_str(reason));
	if (before)
		assert_memory_equal(before, f->buf, f->edit.len);
}

static void refusals_at_init(void **state)
{
	struct fixture f;
	struct vt_l4 l4 = { .proto = IPPROTO_UDP, .payload_len = 40 };
	uint8_t other[64];

	(void)state;
	f.len = vt_ipv4_build(f.buf, VT_PACKET_MAX, NULL, &l4);
	/* Cut by the copy range: 30 of 68 bytes. */
	vt_parse(&f.pkt, f.buf, 30, f.len);
	expect_refusal(&f, vd_packet_edit_init(&f.edit, &f.pkt, f.buf, CAPACITY, 0), -ENODATA,
		       VD_EDIT_TRUNCATED, NULL);
	/* Malformed: IHL past the packet. */
	f.buf[0] = 0x4f;
	vt_parse(&f.pkt, f.buf, 24, 24);
	expect_refusal(&f, vd_packet_edit_init(&f.edit, &f.pkt, f.buf, CAPACITY, 0), -EBADMSG,
		       VD_EDIT_MALFORMED, NULL);
	f.buf[0] = 0x45;
	vt_parse(&f.pkt, f.buf, f.len, f.len);
	expect_refusal(&f, vd_packet_edit_init(&f.edit, &f.pkt, other, CAPACITY, 0), -EINVAL,
		       VD_EDIT_INVALID, NULL);
	expect_refusal(&f, vd_packet_edit_init(&f.edit, &f.pkt, f.buf, (uint32_t)f.len - 1, 0),
		       -EINVAL, VD_EDIT_INVALID, NULL);
}

static void refusals_per_call(void **state)
{
	int v = *(int *)*state;
	struct fixture f;
	uint8_t before[CAPACITY], addr[16] = { 0 };
	static uint8_t big[VD_EDIT_MAX_LEN];

	make_simple(&f, v, IPPROTO_UDP, 20);
	memcpy(before, f.buf, f.len);
	expect_refusal(&f, vd_packet_edit_set_src(&f.edit, v == 4 ? 6 : 4, addr), -EAFNOSUPPORT,
		       VD_EDIT_FAMILY, before);
	expect_refusal(&f, vd_packet_edit_set_src(&f.edit, 5, addr), -EINVAL, VD_EDIT_INVALID,
		       before);
	expect_refusal(&f, vd_packet_edit_set_dscp(&f.edit, 64), -EINVAL, VD_EDIT_INVALID, before);
	expect_refusal(&f, vd_packet_edit_set_ecn(&f.edit, 4), -EINVAL, VD_EDIT_INVALID, before);
	expect_refusal(&f, vd_packet_edit_set_tcp_flags(&f.edit, VD_TCP_SYN, 0), -ENOPROTOOPT,
		       VD_EDIT_NO_FIELD, before);
	expect_refusal(&f, vd_packet_edit_replace_payload(&f.edit, 5, 21, addr, 1), -EINVAL,
		       VD_EDIT_INVALID, before);
	expect_refusal(&f, vd_packet_edit_replace_payload(&f.edit, 6, 5, addr, 1), -EINVAL,
		       VD_EDIT_INVALID, before);
	/* Over the capacity, and over 65,535 bytes. */
	f.edit.capacity = (uint32_t)f.len + 3;
	expect_refusal(&f, vd_packet_edit_replace_payload(&f.edit, 0, 0, addr, 4), -ENOBUFS,
		       VD_EDIT_NO_ROOM, before);
	f.edit.capacity = CAPACITY;
	expect_refusal(&f, vd_packet_edit_replace_payload(&f.edit, 0, 0, big, sizeof(big)),
		       -EMSGSIZE, VD_EDIT_TOO_LONG, before);

	/* Ports of ICMP; ports of SCTP (CRC32c). */
	make_simple(&f, v, v == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, 8);
	expect_refusal(&f, vd_packet_edit_set_dport(&f.edit, 1), -ENOPROTOOPT, VD_EDIT_NO_FIELD,
		       NULL);
	make_simple(&f, v, IPPROTO_SCTP, 8);
	memcpy(before, f.buf, f.len);
	expect_refusal(&f, vd_packet_edit_set_sport(&f.edit, 1), -EOPNOTSUPP, VD_EDIT_SCTP_CRC,
		       before);
	expect_refusal(&f, vd_packet_edit_replace_payload(&f.edit, 0, 1, addr, 1), -EOPNOTSUPP,
		       VD_EDIT_SCTP_CRC, before);
	assert_int_equal(vd_packet_edit_set_ttl(&f.edit, 1), 0); /* no L4 checksum involved */

	/* TCP: same length fine, a length change needs the sequence fix-up. */
	make_simple(&f, v, IPPROTO_TCP, 20);
	memcpy(before, f.buf, f.len);
	expect_refusal(&f, vd_packet_edit_replace_payload(&f.edit, 0, 2, addr, 3), -EPROTO,
		       VD_EDIT_TCP_LENGTH, before);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 0, 2, (const uint8_t *)"ab", 2), 0);
	make_simple(&f, v, IPPROTO_TCP, 20);
	assert_int_equal(vd_packet_edit_init(&f.edit, &f.pkt, f.buf, CAPACITY,
					     VD_EDIT_TCP_LENGTH_OK), 0);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 0, 2, addr, 7), 0);
	assert_int_equal(f.edit.tcp_length_delta, 5);
	assert_packet_valid(&f, false);
}

static void refusals_fragments_jumbo(void **state)
{
	struct fixture f;
	struct vt_l4 l4 = { .proto = IPPROTO_UDP, .sport = 1, .dport = 2, .payload_len = 40 };
	struct vt_ipv4 frag4 = { .fragment = VT_IPV4_MF };
	struct vt_ext frag_ext = { .type = IPPROTO_FRAGMENT, .frag_more = true };
	struct vt_ipv6 frag6 = { .ext = &frag_ext, .n_ext = 1 };
	struct vt_ipv6 jumbo = { .jumbo = true };
	uint8_t addr[16] = { 1 }, before[CAPACITY];

	(void)state;
	make(&f, 4, &frag4, NULL, &l4, 0);
	memcpy(before, f.buf, f.len);
	expect_refusal(&f, vd_packet_edit_replace_payload(&f.edit, 0, 0, addr, 1), -EOPNOTSUPP,
		       VD_EDIT_FRAGMENT, before);
	expect_refusal(&f, vd_packet_edit_set_dst(&f.edit, 4, addr), -EOPNOTSUPP, VD_EDIT_FRAGMENT,
		       before);
	/* A first fragment's ports and TTL can change (the checksum is here). */
	assert_int_equal(vd_packet_edit_set_dport(&f.edit, 9), 0);
	assert_int_equal(vd_packet_edit_set_ttl(&f.edit, 9), 0);
	assert_int_equal(be16(f.buf + 10), vt_ref_ipv4_checksum(f.buf));

	make(&f, 6, NULL, &frag6, &l4, 0);
	memcpy(before, f.buf, f.len);
	expect_refusal(&f, vd_packet_edit_replace_payload(&f.edit, 0, 1, NULL, 0), -EOPNOTSUPP,
		       VD_EDIT_FRAGMENT, before);
	expect_refusal(&f, vd_packet_edit_set_src(&f.edit, 6, addr), -EOPNOTSUPP, VD_EDIT_FRAGMENT,
		       before);

	/* Payload length 0: the reference cannot place its checksum, so the
	 * packet keeps the builder's 0 (the edit never gets that far). */
	memset(&f, 0, sizeof(f));
	f.len = vt_ipv6_build(f.buf, VT_PACKET_MAX, &jumbo, &l4);
	assert_int_equal(vt_parse(&f.pkt, f.buf, f.len, f.len), VD_PARSE_OK);
	assert_int_equal(vd_packet_edit_init(&f.edit, &f.pkt, f.buf, CAPACITY, 0), 0);
	memcpy(before, f.buf, f.len);
	expect_refusal(&f, vd_packet_edit_replace_payload(&f.edit, 0, 0, addr, 1), -EFBIG,
		       VD_EDIT_JUMBO, before);
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(vd_packet_edit_field_name(0), "ttl");
	assert_string_equal(vd_packet_edit_field_name(7), "tcp_flags");
	assert_string_equal(vd_packet_edit_field_name(VD_EDIT_FIELD_COUNT - 1), "payload");
	assert_null(vd_packet_edit_field_name(VD_EDIT_FIELD_COUNT));
	for (unsigned r = 0; r < VD_EDIT_REASON_COUNT; r++)
		assert_string_not_equal(vd_packet_edit_reason_str(r), "unknown reason");
	assert_string_equal(vd_packet_edit_reason_str(VD_EDIT_REASON_COUNT), "unknown reason");
}

#define BOTH(fn) cmocka_unit_test_prestate(fn, &ipv4), cmocka_unit_test_prestate(fn, &ipv6)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(property_random_edits),
		BOTH(every_field),
		BOTH(same_value_is_no_edit),
		BOTH(udp_grow_shrink),
		cmocka_unit_test(udp_zero_rule),
		BOTH(csum_not_ready_completed),
		BOTH(csum_not_ready_keep_partial),
		BOTH(mss_clamp_layouts),
		BOTH(mss_clamp_malformed),
		cmocka_unit_test(refusals_at_init),
		BOTH(refusals_per_call),
		cmocka_unit_test(refusals_fragments_jumbo),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
