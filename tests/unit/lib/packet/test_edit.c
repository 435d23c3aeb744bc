/* test_edit.c - unit tests for engine/lib/packet/edit.c: a property test of
 * random edits on random packets against the plain reference checksums of
 * helpers.c, every field under IPv4 and IPv6, UDP growth and shrink, the
 * UDP zero rule and CSUM_NOT_READY (the MSS clamp and the refusals are in
 * test_edit_refusals.c). */
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

/* ---- the property test ---- */

static void random_address(uint8_t *a, int v)
{
	for (int i = 0; i < (v == 4 ? 4 : 16); i++)
		a[i] = (uint8_t)vt_rng();
}

/* One random edit; returns what it returned. */
static int random_edit(struct vt_edit_fixture *f, int v)
{
	struct vd_packet_edit *e = &f->edit;
	uint8_t addr[16], bytes[40];
	uint32_t start, end, n;

	switch (vt_rng() % 11) {
	case 0: return vd_packet_edit_set_ttl(e, (uint8_t)vt_rng());
	case 1: return vd_packet_edit_set_dscp(e, vt_rng() % 64);
	case 2: return vd_packet_edit_set_ecn(e, vt_rng() % 4);
	case 3: random_address(addr, v); return vd_packet_edit_set_src(e, (uint8_t)v, addr);
	case 4: random_address(addr, v); return vd_packet_edit_set_dst(e, (uint8_t)v, addr);
	case 5: return vd_packet_edit_set_sport(e, (uint16_t)vt_rng());
	case 6: return vd_packet_edit_set_dport(e, (uint16_t)vt_rng());
	case 7: return vd_packet_edit_set_tcp_flags(e, (uint8_t)vt_rng() & 0x3f, 0);
	case 8: return vd_packet_edit_set_df(e, vt_rng() & 1);
	default: break;
	}
	/* A payload range at any (odd) offset, same length or not. */
	start = f->pkt.payload_len ? vt_rng() % (f->pkt.payload_len + 1) : 0;
	end = start + (f->pkt.payload_len - start ? vt_rng() % (f->pkt.payload_len - start + 1) : 0);
	n = vt_rng() % 2 ? end - start : vt_rng() % sizeof(bytes);
	if (n > sizeof(bytes))
		n = sizeof(bytes);
	for (uint32_t i = 0; i < n; i++)
		bytes[i] = (uint8_t)vt_rng();
	return vd_packet_edit_replace_payload(e, start, end, bytes, n);
}

static void property_random_edits(void **state)
{
	static const uint8_t protos4[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP };
	static const uint8_t protos6[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6 };
	static const struct vt_ext exts[] = { { .type = IPPROTO_HOPOPTS },
					      { .type = IPPROTO_DSTOPTS, .len = 16 } };
	struct vt_edit_fixture *f = malloc(sizeof(*f));
	unsigned done = 0, refused = 0;

	(void)state;
	assert_non_null(f);
	for (int round = 0; round < 5000; round++) {
		int v = vt_rng() % 2 ? 4 : 6;
		struct vt_ipv4 ip4 = { .options_len = (uint8_t)(4 * (vt_rng() % 3)),
				       .ttl = (uint8_t)(1 + vt_rng() % 255) };
		struct vt_ipv6 ip6 = { .ext = exts, .n_ext = vt_rng() % 3 };
		struct vt_l4 l4 = { .proto = v == 4 ? protos4[vt_rng() % 3] : protos6[vt_rng() % 3],
				    .sport = (uint16_t)vt_rng(), .dport = (uint16_t)vt_rng(),
				    .tcp_flags = (uint8_t)vt_rng(),
				    .tcp_options_len = (uint8_t)(4 * (vt_rng() % 4)),
				    .icmp_type = (uint8_t)vt_rng(), .payload_len = vt_rng() % 300 };

		vt_edit_make(f, v, &ip4, &ip6, &l4, 0);
		for (int i = 0, edits = 1 + vt_rng() % 6; i < edits; i++) {
			int err = random_edit(f, v);

			if (err) {
				/* Only what this packet cannot have. */
				assert_true(f->edit.reason == VD_EDIT_NO_FIELD ||
					    f->edit.reason == VD_EDIT_TCP_LENGTH);
				refused++;
			} else {
				done++;
			}
			vt_edit_assert_valid(f, false);
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
	struct vt_edit_fixture f;
	uint8_t addr[16];
	const char *text_src = v == 4 ? "203.0.113.7" : "2001:db8:1:2::77";
	const char *text_dst = v == 4 ? "198.18.0.9" : "2001:db8:ff::9";

	vt_edit_make_simple(&f, v, IPPROTO_TCP, 33);
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
	assert_int_equal(vt_be16(f.pkt.l4), 4242);
	assert_int_equal(vt_be16(f.pkt.l4 + 2), 8080);
	assert_int_equal(vd_packet_edit_set_tcp_flags(&f.edit, VD_TCP_SYN, VD_TCP_ACK), 0);
	assert_int_equal(f.pkt.l4[13], VD_TCP_SYN);
	if (v == 4) {
		assert_int_equal(vd_packet_edit_set_df(&f.edit, true), 0);
		assert_int_equal(vt_be16(f.buf + 6) & 0x4000, 0x4000);
		assert_int_equal(vd_packet_edit_set_df(&f.edit, false), 0);
		assert_int_equal(vt_be16(f.buf + 6) & 0x4000, 0);
	} else {
		assert_int_equal(vd_packet_edit_set_df(&f.edit, true), -ENOPROTOOPT);
		assert_int_equal(f.edit.reason, VD_EDIT_NO_FIELD);
	}
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 3, 7, (const uint8_t *)"WXYZ", 4),
			 0);
	assert_memory_equal(f.pkt.payload + 3, "WXYZ", 4);
	vt_edit_assert_valid(&f, false);
	assert_int_equal(f.edit.fields, VD_EDIT_TTL | VD_EDIT_DSCP | VD_EDIT_ECN | VD_EDIT_SRC |
						VD_EDIT_DST | VD_EDIT_SPORT | VD_EDIT_DPORT |
						VD_EDIT_TCP_FLAGS | VD_EDIT_PAYLOAD |
						(v == 4 ? VD_EDIT_DF : 0));
	assert_false(vd_packet_edit_length_changed(&f.edit));

	/* UDP and ICMP carry their own checksum the same way. */
	vt_edit_make_simple(&f, v, IPPROTO_UDP, 21);
	assert_int_equal(vd_packet_edit_set_dport(&f.edit, 53), 0);
	assert_int_equal(vd_packet_edit_set_src(&f.edit, (uint8_t)v, addr), 0);
	vt_edit_assert_valid(&f, false);
	vt_edit_make_simple(&f, v, v == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, 17);
	assert_int_equal(vd_packet_edit_set_dst(&f.edit, (uint8_t)v, addr), 0);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 0, 5, (const uint8_t *)"x", 1), 0);
	vt_edit_assert_valid(&f, false);
	assert_int_equal(vd_packet_edit_set_dport(&f.edit, 1), -ENOPROTOOPT);
}

/* Writing the value already there changes nothing and records nothing. */
static void same_value_is_no_edit(void **state)
{
	int v = *(int *)*state;
	struct vt_edit_fixture f;
	uint8_t before[CAPACITY], same[5];

	vt_edit_make_simple(&f, v, IPPROTO_TCP, 10);
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
	struct vt_edit_fixture f;
	uint8_t ins[16];
	uint32_t h = v == 4 ? 28 : 48;

	memset(ins, 0xab, sizeof(ins));
	vt_edit_make_simple(&f, v, IPPROTO_UDP, 101);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 11, 11, ins, 16), 0);
	assert_int_equal(f.edit.len, h + 117);
	assert_true(vd_packet_edit_length_changed(&f.edit));
	assert_int_equal(f.pkt.payload_len, 117);
	assert_int_equal(f.pkt.payload[10], 10);
	assert_memory_equal(f.pkt.payload + 11, ins, 16);
	assert_int_equal(f.pkt.payload[27], 11); /* what followed moved along */
	assert_int_equal(f.pkt.payload[116], 100);
	vt_edit_assert_valid(&f, false);
	/* Shrink by 50, at an odd offset. */
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 1, 51, NULL, 0), 0);
	assert_int_equal(f.edit.len, h + 67);
	assert_int_equal(f.pkt.payload[0], 0);
	vt_edit_assert_valid(&f, false);
	/* Down to nothing, and back up by an odd count. */
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 0, f.pkt.payload_len, NULL, 0), 0);
	assert_int_equal(f.edit.len, h);
	assert_int_equal(f.pkt.payload_len, 0);
	vt_edit_assert_valid(&f, false);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 0, 0, ins, 7), 0);
	assert_int_equal(f.pkt.payload_len, 7);
	vt_edit_assert_valid(&f, false);
	assert_int_equal(f.edit.fields, VD_EDIT_PAYLOAD);
}

/* ---- UDP checksum zero ---- */

static void udp_zero_rule(void **state)
{
	struct vt_edit_fixture f;
	uint16_t check, port;
	uint32_t sum;

	(void)state;
	/* IPv4 UDP sent without a checksum keeps none. */
	vt_edit_make_simple(&f, 4, IPPROTO_UDP, 20);
	f.buf[26] = f.buf[27] = 0;
	assert_int_equal(vd_packet_edit_init(&f.edit, &f.pkt, f.buf, CAPACITY, 0), 0);
	assert_int_equal(vd_packet_edit_set_dport(&f.edit, 7), 0);
	assert_int_equal(vd_packet_edit_set_dst(&f.edit, 4, (const uint8_t *)"\xc6\x12\0\x09"), 0);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 0, 3, (const uint8_t *)"abcdefg", 7),
			 0);
	vt_edit_assert_valid(&f, true);

	/* A UDP checksum that comes to 0 is sent as 0xffff: pick the port that
	 * makes it so (new port = old port + old checksum, ones' complement). */
	for (int v = 4; v <= 6; v += 2) {
		size_t off = v == 4 ? 26 : 46;

		vt_edit_make_simple(&f, v, IPPROTO_UDP, 20);
		check = vt_be16(f.buf + off);
		sum = 2000u + check;
		port = (uint16_t)((sum & 0xffff) + (sum >> 16));
		assert_int_equal(vd_packet_edit_set_dport(&f.edit, port), 0);
		assert_int_equal(vt_be16(f.buf + off), 0xffff);
		vt_edit_assert_valid(&f, false);
	}

	/* IPv6 UDP with 0 is invalid: the first edit computes it. */
	vt_edit_make_simple(&f, 6, IPPROTO_UDP, 20);
	f.buf[46] = f.buf[47] = 0;
	assert_int_equal(vd_packet_edit_init(&f.edit, &f.pkt, f.buf, CAPACITY, 0), 0);
	assert_int_equal(vd_packet_edit_set_ttl(&f.edit, 9), 0);
	assert_int_not_equal(vt_be16(f.buf + 46), 0);
	vt_edit_assert_valid(&f, false);
}

/* ---- CSUM_NOT_READY ---- */

static void not_ready(struct vt_edit_fixture *f, int v, uint8_t proto, unsigned options)
{
	struct vt_l4_ref ref;

	vt_edit_make_simple(f, v, proto, 31);
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
	struct vt_edit_fixture f;
	uint16_t partial;

	for (int i = 0; i < 2; i++) {
		uint8_t proto = i ? IPPROTO_UDP : IPPROTO_TCP;
		size_t off = (v == 4 ? 20u : 40u) + (proto == IPPROTO_TCP ? 16u : 6u);

		not_ready(&f, v, proto, 0);
		partial = vt_be16(f.buf + off);
		/* No change, no completion: the kernel still finishes it. */
		assert_int_equal(vd_packet_edit_set_ttl(&f.edit, 64), 0);
		assert_int_equal(vt_be16(f.buf + off), partial);
		/* A TTL edit alone: the kernel makes the packet CHECKSUM_NONE when
		 * it takes the new bytes, so the L4 checksum is completed. */
		assert_int_equal(vd_packet_edit_set_ttl(&f.edit, 5), 0);
		assert_false(f.pkt.flags & VD_PACKET_CSUM_NOT_READY);
		vt_edit_assert_valid(&f, false);
		assert_int_equal(vd_packet_edit_set_dport(&f.edit, 99), 0);
		vt_edit_assert_valid(&f, false);
	}
	/* A length change alone completes it too. */
	not_ready(&f, v, IPPROTO_UDP, 0);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 0, 0, (const uint8_t *)"++", 2), 0);
	vt_edit_assert_valid(&f, false);
}

static void csum_not_ready_keep_partial(void **state)
{
	int v = *(int *)*state;
	struct vt_edit_fixture f;
	size_t off = v == 4 ? 26 : 46;
	uint8_t addr[16] = { 198, 18, 0, 77 };
	uint16_t before;

	if (v == 6)
		addr[0] = 0x20, addr[1] = 0x01, addr[15] = 0x77;
	not_ready(&f, v, IPPROTO_UDP, VD_EDIT_KEEP_PARTIAL);
	before = vt_be16(f.buf + off);
	/* Bytes the kernel sums later: the partial sum stays. */
	assert_int_equal(vd_packet_edit_set_dport(&f.edit, 99), 0);
	assert_int_equal(vd_packet_edit_set_ttl(&f.edit, 3), 0);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 2, 4, (const uint8_t *)"zz", 2), 0);
	assert_int_equal(vt_be16(f.buf + off), before);
	assert_true(f.pkt.flags & VD_PACKET_CSUM_NOT_READY);
	/* The pseudo-header: address and length move the partial sum. */
	assert_int_equal(vd_packet_edit_set_src(&f.edit, (uint8_t)v, addr), 0);
	assert_int_equal(vt_be16(f.buf + off), vt_ref_l4_partial(f.buf, f.edit.len));
	assert_int_not_equal(vt_be16(f.buf + off), before);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 0, 0, (const uint8_t *)"123", 3),
			 0);
	assert_int_equal(vt_be16(f.buf + off), vt_ref_l4_partial(f.buf, f.edit.len));
	assert_int_equal(vt_be16(f.buf + off - 2), f.edit.len - (v == 4 ? 20 : 40)); /* UDP length */
}

/* ---- MSS clamp ---- */

/* A TCP SYN with these option bytes (a multiple of 4), checksum filled. */
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
