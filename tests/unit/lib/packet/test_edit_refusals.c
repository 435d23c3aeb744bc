/* test_edit_refusals.c - engine/lib/packet/edit.c: the MSS clamp over
 * option layouts (malformed ones refused), every refusal leaving the packet
 * as it was, and the names of edited fields. */
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

static int ipv4 = 4, ipv6 = 6;

static void make_syn(struct vt_edit_fixture *f, int v, const uint8_t *opts, uint8_t n)
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
	struct vt_edit_fixture f;
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
	assert_int_equal(vt_be16(f.buf + tcp + 22), 1400);
	assert_int_equal(f.edit.fields, VD_EDIT_MSS);
	vt_edit_assert_valid(&f, false);
	make_syn(&f, v, after_nop, sizeof(after_nop));
	assert_int_equal(vd_packet_edit_clamp_mss(&f.edit, 1360), 0);
	assert_int_equal(vt_be16(f.buf + tcp + 23), 1360);
	vt_edit_assert_valid(&f, false);
	make_syn(&f, v, linux_syn, sizeof(linux_syn));
	assert_int_equal(vd_packet_edit_clamp_mss(&f.edit, 1200), 0);
	assert_int_equal(vt_be16(f.buf + tcp + 22), 1200);
	assert_int_equal(f.buf[tcp + 24], 4); /* SACK-permitted untouched */
	vt_edit_assert_valid(&f, false);
	make_syn(&f, v, twice, sizeof(twice));
	assert_int_equal(vd_packet_edit_clamp_mss(&f.edit, 5000), 0);
	assert_int_equal(vt_be16(f.buf + tcp + 22), 5000);
	assert_int_equal(vt_be16(f.buf + tcp + 27), 4096); /* already below */
	vt_edit_assert_valid(&f, false);
	/* Already small enough, after EOL, or no option: nothing changes. */
	make_syn(&f, v, first, sizeof(first));
	assert_int_equal(vd_packet_edit_clamp_mss(&f.edit, 1460), 0);
	make_syn(&f, v, after_eol, sizeof(after_eol));
	assert_int_equal(vd_packet_edit_clamp_mss(&f.edit, 1000), 0);
	assert_int_equal(vt_be16(f.buf + tcp + 23), 0xffff);
	assert_int_equal(f.edit.fields, 0);
	vt_edit_make_simple(&f, v, IPPROTO_TCP, 0);
	assert_int_equal(vd_packet_edit_clamp_mss(&f.edit, 1000), 0);
	assert_int_equal(f.edit.fields, 0);
	assert_int_equal(vd_packet_edit_clamp_mss(&f.edit, 0), -EINVAL);
	vt_edit_make_simple(&f, v, IPPROTO_UDP, 0);
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
	struct vt_edit_fixture f;
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

static void expect_refusal(struct vt_edit_fixture *f, int err, int want, enum vd_edit_reason reason,
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
	struct vt_edit_fixture f;
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
	/* A packet larger than the room a verdict has for it (a GSO packet
	 * over 65,531 bytes): no room, not a bad argument. */
	expect_refusal(&f, vd_packet_edit_init(&f.edit, &f.pkt, f.buf, (uint32_t)f.len - 1, 0),
		       -ENOBUFS, VD_EDIT_NO_ROOM, NULL);
}

static void refusals_per_call(void **state)
{
	int v = *(int *)*state;
	struct vt_edit_fixture f;
	uint8_t before[CAPACITY], addr[16] = { 0 };
	static uint8_t big[VD_EDIT_MAX_LEN];

	vt_edit_make_simple(&f, v, IPPROTO_UDP, 20);
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
	vt_edit_make_simple(&f, v, v == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, 8);
	expect_refusal(&f, vd_packet_edit_set_dport(&f.edit, 1), -ENOPROTOOPT, VD_EDIT_NO_FIELD,
		       NULL);
	vt_edit_make_simple(&f, v, IPPROTO_SCTP, 8);
	memcpy(before, f.buf, f.len);
	expect_refusal(&f, vd_packet_edit_set_sport(&f.edit, 1), -EOPNOTSUPP, VD_EDIT_SCTP_CRC,
		       before);
	expect_refusal(&f, vd_packet_edit_replace_payload(&f.edit, 0, 1, addr, 1), -EOPNOTSUPP,
		       VD_EDIT_SCTP_CRC, before);
	assert_int_equal(vd_packet_edit_set_ttl(&f.edit, 1), 0); /* no L4 checksum involved */

	/* TCP: same length fine, a length change needs the sequence fix-up. */
	vt_edit_make_simple(&f, v, IPPROTO_TCP, 20);
	memcpy(before, f.buf, f.len);
	expect_refusal(&f, vd_packet_edit_replace_payload(&f.edit, 0, 2, addr, 3), -EPROTO,
		       VD_EDIT_TCP_LENGTH, before);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 0, 2, (const uint8_t *)"ab", 2), 0);
	vt_edit_make_simple(&f, v, IPPROTO_TCP, 20);
	assert_int_equal(vd_packet_edit_init(&f.edit, &f.pkt, f.buf, CAPACITY,
					     VD_EDIT_TCP_LENGTH_OK), 0);
	assert_int_equal(vd_packet_edit_replace_payload(&f.edit, 0, 2, addr, 7), 0);
	assert_int_equal(f.edit.tcp_length_delta, 5);
	vt_edit_assert_valid(&f, false);
}

static void refusals_fragments_jumbo(void **state)
{
	struct vt_edit_fixture f;
	struct vt_l4 l4 = { .proto = IPPROTO_UDP, .sport = 1, .dport = 2, .payload_len = 40 };
	struct vt_ipv4 frag4 = { .fragment = VT_IPV4_MF };
	struct vt_ext frag_ext = { .type = IPPROTO_FRAGMENT, .frag_more = true };
	struct vt_ipv6 frag6 = { .ext = &frag_ext, .n_ext = 1 };
	struct vt_ipv6 jumbo = { .jumbo = true };
	uint8_t addr[16] = { 1 }, before[CAPACITY];

	(void)state;
	vt_edit_make(&f, 4, &frag4, NULL, &l4, 0);
	memcpy(before, f.buf, f.len);
	expect_refusal(&f, vd_packet_edit_replace_payload(&f.edit, 0, 0, addr, 1), -EOPNOTSUPP,
		       VD_EDIT_FRAGMENT, before);
	expect_refusal(&f, vd_packet_edit_set_dst(&f.edit, 4, addr), -EOPNOTSUPP, VD_EDIT_FRAGMENT,
		       before);
	/* A first fragment's ports and TTL can change (the checksum is here). */
	assert_int_equal(vd_packet_edit_set_dport(&f.edit, 9), 0);
	assert_int_equal(vd_packet_edit_set_ttl(&f.edit, 9), 0);
	assert_int_equal(vt_be16(f.buf + 10), vt_ref_ipv4_checksum(f.buf));

	vt_edit_make(&f, 6, NULL, &frag6, &l4, 0);
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
		BOTH(mss_clamp_layouts),
		BOTH(mss_clamp_malformed),
		cmocka_unit_test(refusals_at_init),
		BOTH(refusals_per_call),
		cmocka_unit_test(refusals_fragments_jumbo),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
