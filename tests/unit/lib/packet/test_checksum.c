/* test_checksum.c - unit tests for engine/lib/packet/checksum.c: known
 * answers (RFC 1071, packets the kernel sent), every alignment and length
 * against the plain reference in helpers.c, odd-offset blocks, incremental
 * updates and pseudo-headers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "checksum.h"
#include "helpers.h"

/* A fixed seed: a failure reproduces. */
static uint32_t rng_state = 0x2545f491u;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng();
}

static uint16_t ref_fold(uint64_t sum)
{
	return (uint16_t)~vt_ref_finish(sum);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- known answers ---- */

static void rfc1071_example(void **state)
{
	/* RFC 1071 section 3: the sum of these bytes is ddf2. */
	static const uint8_t bytes[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	(void)state;
	assert_int_equal(vd_checksum_fold(vd_checksum_partial(bytes, sizeof(bytes), 0)), 0xddf2);
	assert_int_equal(vd_checksum_finish(vd_checksum_partial(bytes, sizeof(bytes), 0)), 0x220d);
	/* Odd length: the last byte is padded with zero. */
	assert_int_equal(vd_checksum_fold(vd_checksum_partial(bytes, 7, 0)), 0xddf2 - 0xf7);
}

static void ipv4_header_known(void **state)
{
	uint8_t h[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

	(void)state;
	assert_int_equal(vd_checksum_finish(vd_checksum_partial(h, sizeof(h), 0)), 0xb861);
	h[10] = 0xb8;
	h[11] = 0x61;
	/* A correct header sums to all ones. */
	assert_int_equal(vd_checksum_fold(vd_checksum_partial(h, sizeof(h), 0)), 0xffff);
}

/* Packets captured on a namespace's loopback (tcpdump -w): what the kernel
 * wrote, and the value tcpdump -vv computed for the L4 checksum. Loopback
 * offloads TCP and UDP checksums, so those carry the pseudo-header sum
 * (CHECKSUM_PARTIAL); the RST and the ICMP messages are complete. */
struct real_packet {
	const char *what;
	const uint8_t *bytes;
	size_t len;
	uint16_t correct; /* tcpdump's L4 checksum */
	bool partial;     /* the field holds the pseudo-header sum */
};

static const uint8_t udp4_partial[] = {
	0x45, 0x00, 0x00, 0x27, 0x78, 0xbf, 0x40, 0x00, 0x40, 0x11, 0x35, 0xe0, 0xc6, 0x12,
	0x00, 0x01, 0xc6, 0x12, 0x00, 0x01, 0x96, 0xd4, 0x27, 0x0f, 0x00, 0x13, 0x8c, 0x4b,
	0x76, 0x65, 0x72, 0x64, 0x69, 0x63, 0x74, 0x2d, 0x6f, 0x64, 0x64,
};
static const uint8_t tcp4_syn_partial[] = {
	0x45, 0x00, 0x00, 0x3c, 0xdc, 0x59, 0x40, 0x00, 0x40, 0x06, 0xd2, 0x3b, 0xc6, 0x12,
	0x00, 0x01, 0xc6, 0x12, 0x00, 0x01, 0x85, 0x90, 0x27, 0x0e, 0x95, 0x76, 0x1b, 0x15,
	0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xff, 0xd7, 0x8c, 0x55, 0x00, 0x00, 0x02, 0x04,
	0xff, 0xd7, 0x04, 0x02, 0x08, 0x0a, 0xe6, 0xfa, 0xe3, 0x38, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x03, 0x03, 0x0a,
};
static const uint8_t tcp4_rst[] = {
	0x45, 0x00, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0xae, 0xa9, 0xc6, 0x12,
	0x00, 0x01, 0xc6, 0x12, 0x00, 0x01, 0x27, 0x0e, 0x85, 0x90, 0x00, 0x00, 0x00, 0x00,
	0x95, 0x76, 0x1b, 0x16, 0x50, 0x14, 0x00, 0x00, 0xc6, 0x7e, 0x00, 0x00,
};
static const uint8_t udp6_partial[] = {
	0x60, 0x04, 0xa7, 0x6a, 0x00, 0x13, 0x11, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xd4, 0xe2,
	0x27, 0x0f, 0x00, 0x13, 0x5b, 0x98, 0x76, 0x65, 0x72, 0x64, 0x69, 0x63, 0x74, 0x2d,
	0x6f, 0x64, 0x64,
};
static const uint8_t tcp6_syn_partial[] = {
	0x60, 0x00, 0x01, 0x8a, 0x00, 0x28, 0x06, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xe9, 0xa6,
	0x27, 0x0e, 0x07, 0xa4, 0xd8, 0xb1, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xff, 0xc4,
	0x5b, 0xa2, 0x00, 0x00, 0x02, 0x04, 0xff, 0xc4, 0x04, 0x02, 0x08, 0x0a, 0xe7, 0x8f,
	0x7c, 0x12, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
};
static const uint8_t icmp4_echo[] = {
	0x45, 0x00, 0x00, 0x21, 0x06, 0x66, 0x40, 0x00, 0x40, 0x01, 0xa8, 0x4f, 0xc6, 0x12,
	0x00, 0x01, 0xc6, 0x12, 0x00, 0x01, 0x08, 0x00, 0x0f, 0xc3, 0xbe, 0x74, 0x00, 0x01,
	0x61, 0x62, 0x63, 0x64, 0x65,
};
static const uint8_t icmp6_echo[] = {
	0x60, 0x0d, 0xfa, 0xe2, 0x00, 0x0d, 0x3a, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x80, 0x00,
	0x3c, 0x06, 0xbe, 0x75, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64, 0x65,
};

#define REAL(name, correct, partial) { #name, name, sizeof(name), correct, partial }
static const struct real_packet real_packets[] = {
	REAL(udp4_partial, 0x1bfe, true),     REAL(tcp4_syn_partial, 0x9a7c, true),
	REAL(tcp4_rst, 0xc67e, false),        REAL(udp6_partial, 0x0ea3, true),
	REAL(tcp6_syn_partial, 0x9e06, true), REAL(icmp4_echo, 0x0fc3, false),
	REAL(icmp6_echo, 0x3c06, false),
};

/* The library's full L4 checksum of a packet, field taken as 0. */
static uint16_t library_l4(const uint8_t *p, size_t len, const struct vt_l4_ref *ref)
{
	uint8_t copy[128];
	uint32_t sum = 0;

	assert_true(len <= sizeof(copy));
	memcpy(copy, p, len);
	copy[ref->csum_off] = copy[ref->csum_off + 1] = 0;
	if (ref->pseudo && p[0] >> 4 == 4)
		sum = vd_checksum_pseudo_v4(p + 12, p + 16, ref->proto, (uint32_t)ref->l4_len);
	else if (ref->pseudo)
		sum = vd_checksum_pseudo_v6(p + 8, p + 24, ref->proto, (uint32_t)ref->l4_len);
	return vd_checksum_finish(vd_checksum_partial(copy + ref->l4_off, ref->l4_len, sum));
}

static void real_packets_known(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(real_packets) / sizeof(real_packets[0]); i++) {
		const struct real_packet *r = &real_packets[i];
		struct vt_l4_ref ref;
		uint32_t pseudo;

		print_message("%s\n", r->what);
		assert_true(vt_ref_l4_locate(r->bytes, r->len, &ref));
		/* The reference and the library agree with tcpdump. */
		assert_int_equal(vt_ref_l4_checksum(r->bytes, r->len), r->correct);
		assert_int_equal(library_l4(r->bytes, r->len, &ref), r->correct);
		if (r->bytes[0] >> 4 == 4)
			assert_int_equal(vd_checksum_fold(vd_checksum_partial(r->bytes, 20, 0)),
					 0xffff);
		if (!r->partial) {
			assert_int_equal(be16(r->bytes + ref.csum_off), r->correct);
			continue;
		}
		/* CHECKSUM_PARTIAL: the field is the folded pseudo-header sum,
		 * not complemented. */
		pseudo = r->bytes[0] >> 4 == 4
				 ? vd_checksum_pseudo_v4(r->bytes + 12, r->bytes + 16, ref.proto,
							 (uint32_t)ref.l4_len)
				 : vd_checksum_pseudo_v6(r->bytes + 8, r->bytes + 24, ref.proto,
							 (uint32_t)ref.l4_len);
		assert_int_equal(be16(r->bytes + ref.csum_off), vd_checksum_fold(pseudo));
		assert_int_equal(be16(r->bytes + ref.csum_off),
				 vt_ref_l4_partial(r->bytes, r->len));
	}
}

/* ---- against the reference: every alignment, length and start sum ---- */

static void partial_alignments(void **state)
{
	static uint64_t aligned[(1024 + 64) / 8];
	uint8_t *base = (uint8_t *)aligned;

	(void)state;
	fill_random(base, sizeof(aligned));
	for (size_t off = 0; off < 16; off++) {
		for (size_t n = 0; n <= 600; n++) {
			uint32_t start = n % 3 == 0 ? 0 : rng() & 0xffffu;
			uint16_t got = vd_checksum_fold(vd_checksum_partial(base + off, n, start));
			uint16_t want = ref_fold(vt_ref_sum(base + off, n, start));

			if (got != want)
				fail_msg("offset %zu length %zu: %#x, reference %#x", off, n, got, want);
		}
	}
}

static void partial_long_runs_carry(void **state)
{
	static uint8_t big[65535];

	(void)state;
	/* All ones: every 64-bit add carries. */
	memset(big, 0xff, sizeof(big));
	for (size_t off = 0; off < 3; off++)
		assert_int_equal(vd_checksum_fold(vd_checksum_partial(big + off, sizeof(big) - off,
								      0xffffffffu)),
				 ref_fold(vt_ref_sum(big + off, sizeof(big) - off, 0xffffffffu)));
	fill_random(big, sizeof(big));
	assert_int_equal(vd_checksum_fold(vd_checksum_partial(big + 1, sizeof(big) - 1, 0)),
			 ref_fold(vt_ref_sum(big + 1, sizeof(big) - 1, 0)));
}

/* A buffer summed in two blocks split anywhere, the second placed at an odd
 * or even offset, sums like the whole. */
static void block_split(void **state)
{
	uint8_t buf[257];

	(void)state;
	for (int round = 0; round < 50; round++) {
		fill_random(buf, sizeof(buf));
		for (size_t k = 0; k <= sizeof(buf); k++) {
			uint32_t a = vd_checksum_partial(buf, k, 0);
			uint32_t b = vd_checksum_block(vd_checksum_partial(buf + k, sizeof(buf) - k, 0),
						       k);

			assert_int_equal(vd_checksum_fold(vd_checksum_add(a, b)),
					 ref_fold(vt_ref_sum(buf, sizeof(buf), 0)));
		}
	}
}

/* ---- incremental updates against a full recomputation ---- */

static void replace_ranges(void **state)
{
	uint8_t buf[200], fresh[16];

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t len = 4 + rng() % (sizeof(buf) - 4);
		size_t n = 1 + rng() % sizeof(fresh);
		size_t off;
		uint8_t check[2];
		uint16_t want;

		fill_random(buf, len);
		/* The checksum field sits at 0-1, the changed bytes after it. */
		if (n > len - 2)
			n = len - 2;
		off = 2 + rng() % (len - 2 - n + 1);
		buf[0] = buf[1] = 0;
		want = vt_ref_finish(vt_ref_sum(buf, len, 0));
		check[0] = (uint8_t)(want >> 8);
		check[1] = (uint8_t)want;
		fill_random(fresh, n);
		vd_checksum_replace(check, off, buf + off, fresh, n);
		memcpy(buf + off, fresh, n);
		want = vt_ref_finish(vt_ref_sum(buf, len, 0));
		if (be16(check) != want)
			fail_msg("round %d: %zu bytes at %zu of %zu: %#x, full %#x", round, n, off,
				 len, be16(check), want);
	}
}

static void update_words(void **state)
{
	uint8_t buf[64];

	(void)state;
	for (int round = 0; round < 20000; round++) {
		uint16_t check, old16, new16 = (uint16_t)rng();
		uint32_t old32, new32 = rng();
		size_t at16 = 2 * (1 + rng() % 31), at32 = 4 * (1 + rng() % 15);

		fill_random(buf, sizeof(buf));
		buf[0] = buf[1] = 0;
		check = vt_ref_finish(vt_ref_sum(buf, sizeof(buf), 0));
		old16 = be16(buf + at16);
		buf[at16] = (uint8_t)(new16 >> 8);
		buf[at16 + 1] = (uint8_t)new16;
		check = vd_checksum_update16(check, old16, new16);
		assert_int_equal(check, vt_ref_finish(vt_ref_sum(buf, sizeof(buf), 0)));

		old32 = (uint32_t)be16(buf + at32) << 16 | be16(buf + at32 + 2);
		for (int i = 0; i < 4; i++)
			buf[at32 + i] = (uint8_t)(new32 >> (24 - 8 * i));
		check = vd_checksum_update32(check, old32, new32);
		assert_int_equal(check, vt_ref_finish(vt_ref_sum(buf, sizeof(buf), 0)));
	}
}

/* The plain (uncomplemented) sum of a CHECKSUM_PARTIAL field. */
static void update_plain_sum(void **state)
{
	uint8_t old[16], fresh[16];

	(void)state;
	for (int round = 0; round < 20000; round++) {
		uint64_t rest = rng() & 0xfffffu;
		uint16_t field;

		fill_random(old, sizeof(old));
		fill_random(fresh, sizeof(fresh));
		field = ref_fold(vt_ref_sum(old, 16, rest));
		field = vd_checksum_update_plain(field, vd_checksum_partial(old, 16, 0),
						 vd_checksum_partial(fresh, 16, 0));
		assert_int_equal(field, ref_fold(vt_ref_sum(fresh, 16, rest)));
	}
}

static void pseudo_headers(void **state)
{
	uint8_t a[32];

	(void)state;
	for (int round = 0; round < 5000; round++) {
		uint32_t len = rng() % 70000;
		uint8_t proto = (uint8_t)rng();
		uint64_t v4, v6;

		fill_random(a, sizeof(a));
		v4 = vt_ref_sum(a, 8, 0) + proto + len;
		v6 = vt_ref_sum(a, 32, 0) + proto + (len >> 16) + (len & 0xffff);
		assert_int_equal(vd_checksum_fold(vd_checksum_pseudo_v4(a, a + 4, proto, len & 0xffff)),
				 ref_fold(v4 - len + (len & 0xffff)));
		assert_int_equal(vd_checksum_fold(vd_checksum_pseudo_v6(a, a + 16, proto, len)),
				 ref_fold(v6));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc1071_example),
		cmocka_unit_test(ipv4_header_known),
		cmocka_unit_test(real_packets_known),
		cmocka_unit_test(partial_alignments),
		cmocka_unit_test(partial_long_runs_carry),
		cmocka_unit_test(block_split),
		cmocka_unit_test(replace_ranges),
		cmocka_unit_test(update_words),
		cmocka_unit_test(update_plain_sum),
		cmocka_unit_test(pseudo_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
