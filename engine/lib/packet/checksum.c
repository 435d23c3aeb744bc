/*
 * checksum.c - the Internet checksum (RFC 1071) over buffers, pseudo-header
 * sums and incremental updates (RFC 1624).
 *
 * Buffers are summed in the machine's own byte order, 64 bits at a time
 * over aligned words, and converted to big-endian once at the end: the ones'
 * complement sum is independent of byte order (RFC 1071 section 2(B)), so
 * this is the same sum as one taken word by word in network order.
 */
#include "checksum.h"

#include <stdbool.h>
#include <string.h>
#include <arpa/inet.h>

static inline uint64_t add64(uint64_t sum, uint64_t add)
{
	sum += add;
	return sum + (sum < add);
}

static inline uint16_t fold64(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	return vd_checksum_fold((uint32_t)sum);
}

static inline uint16_t swap16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

static inline uint16_t load16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The native-order sum of n bytes at an even address. */
static uint16_t native_sum_even(const uint8_t *p, size_t n)
{
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, w[4];
	uint16_t last = 0;

	/* Whole 16-bit words up to 8-byte alignment keep the word parity. */
	while (((uintptr_t)p & 7u) && n >= 2) {
		s0 += load16(p);
		p += 2;
		n -= 2;
	}
	/* Four accumulators let the carries of one add overlap the next. */
	while (n >= sizeof(w)) {
		memcpy(w, p, sizeof(w));
		s0 = add64(s0, w[0]);
		s1 = add64(s1, w[1]);
		s2 = add64(s2, w[2]);
		s3 = add64(s3, w[3]);
		p += sizeof(w);
		n -= sizeof(w);
	}
	while (n >= 8) {
		memcpy(w, p, 8);
		s0 = add64(s0, w[0]);
		p += 8;
		n -= 8;
	}
	while (n >= 2) {
		s1 = add64(s1, load16(p));
		p += 2;
		n -= 2;
	}
	if (n) /* the odd last byte is the first of a word padded with zero */
		memcpy(&last, p, 1);
	s0 = add64(add64(s0, s1), add64(s2, s3));
	return fold64(add64(s0, last));
}

/* The native-order sum of n bytes at p, p[0] opening a word. */
static uint16_t native_sum(const uint8_t *p, size_t n)
{
	uint16_t first = 0;
	uint16_t rest;

	if (n == 0)
		return 0;
	if (!((uintptr_t)p & 1u))
		return native_sum_even(p, n);
	/* At an odd address: the first byte opens a word on its own, and the
	 * rest, aligned now, sits one byte into the words: swap its sum. */
	memcpy(&first, p, 1);
	rest = swap16(native_sum_even(p + 1, n - 1));
	return vd_checksum_fold((uint32_t)first + rest);
}

uint32_t vd_checksum_partial(const void *p, size_t n, uint32_t sum)
{
	return vd_checksum_add(sum, ntohs(native_sum(p, n)));
}

uint32_t vd_checksum_block(uint32_t block, size_t offset)
{
	if (offset & 1u)
		return swap16(vd_checksum_fold(block));
	return block;
}

uint32_t vd_checksum_pseudo_v4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
			       uint32_t l4_len)
{
	uint32_t sum = vd_checksum_partial(src, 4, 0);

	sum = vd_checksum_partial(dst, 4, sum);
	sum = vd_checksum_add(sum, proto);
	return vd_checksum_add(sum, l4_len);
}

uint32_t vd_checksum_pseudo_v6(const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
			       uint32_t l4_len)
{
	uint32_t sum = vd_checksum_partial(src, 16, 0);

	sum = vd_checksum_partial(dst, 16, sum);
	sum = vd_checksum_add(sum, proto);
	/* RFC 8200 8.1: the length is a 32-bit field, two words. */
	sum = vd_checksum_add(sum, l4_len >> 16);
	return vd_checksum_add(sum, l4_len & 0xffffu);
}

uint16_t vd_checksum_update(uint16_t check, uint32_t old_sum, uint32_t new_sum)
{
	uint32_t sum = (uint16_t)~check;

	sum = vd_checksum_add(sum, (uint16_t)~vd_checksum_fold(old_sum));
	sum = vd_checksum_add(sum, vd_checksum_fold(new_sum));
	return vd_checksum_finish(sum);
}

uint16_t vd_checksum_update16(uint16_t check, uint16_t old_word, uint16_t new_word)
{
	return vd_checksum_update(check, old_word, new_word);
}

uint16_t vd_checksum_update32(uint16_t check, uint32_t old_word, uint32_t new_word)
{
	return vd_checksum_update(check, (old_word >> 16) + (old_word & 0xffffu),
				  (new_word >> 16) + (new_word & 0xffffu));
}

uint16_t vd_checksum_update_plain(uint16_t field, uint32_t old_sum, uint32_t new_sum)
{
	uint32_t sum = field;

	sum = vd_checksum_add(sum, (uint16_t)~vd_checksum_fold(old_sum));
	return vd_checksum_fold(vd_checksum_add(sum, vd_checksum_fold(new_sum)));
}

/* Header fields are a few bytes: a plain loop beats the aligned one. */
static uint32_t small_sum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (i & 1u) ? p[i] : (uint32_t)p[i] << 8;
	return sum;
}

void vd_checksum_replace(uint8_t *check, size_t offset, const void *old, const void *new,
			 size_t n)
{
	uint16_t value = (uint16_t)(check[0] << 8 | check[1]);
	uint32_t old_sum, new_sum;

	if (n <= 16) {
		old_sum = vd_checksum_block(small_sum(old, n), offset);
		new_sum = vd_checksum_block(small_sum(new, n), offset);
	} else {
		old_sum = vd_checksum_block(vd_checksum_partial(old, n, 0), offset);
		new_sum = vd_checksum_block(vd_checksum_partial(new, n, 0), offset);
	}
	value = vd_checksum_update(value, old_sum, new_sum);
	check[0] = (uint8_t)(value >> 8);
	check[1] = (uint8_t)value;
}
