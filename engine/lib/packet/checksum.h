/*
 * checksum.h - the Internet checksum (RFC 1071) and its incremental update
 * (RFC 1624), for the packet editor and anything else that writes packets.
 *
 * Conventions. A "sum" is a running 32-bit ones' complement sum of 16-bit
 * big-endian words, held as a host integer: fold it to 16 bits with
 * vd_checksum_fold, or to the value a checksum field holds with
 * vd_checksum_finish. A 16-bit checksum or field value is also a host
 * integer: write it to the packet big-endian. Sums of different blocks add
 * with vd_checksum_add; a block that starts at an odd offset of the
 * checksummed region goes through vd_checksum_block first (RFC 1071's
 * byte-order independence: such a block's words are byte-swapped).
 *
 * Every function is pure: no allocation, no syscall, no global state; any
 * thread may call them. Hot path.
 */
#ifndef VD_CHECKSUM_H
#define VD_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* sum plus add, with the end-around carry of ones' complement addition. */
static inline uint32_t vd_checksum_add(uint32_t sum, uint32_t add)
{
	sum += add;
	return sum + (sum < add);
}

/* The 16-bit ones' complement value of sum (not complemented). Never 0
 * unless sum is 0. */
static inline uint16_t vd_checksum_fold(uint32_t sum)
{
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

/* What a checksum field holds over data whose sum is sum. */
static inline uint16_t vd_checksum_finish(uint32_t sum)
{
	return (uint16_t)~vd_checksum_fold(sum);
}

/* Sum of n bytes at p, as if p were at an even offset of the checksummed
 * region, added to sum. Any alignment and any n; an odd n pads with a zero
 * byte, as RFC 1071 does for the last byte. */
uint32_t vd_checksum_partial(const void *p, size_t n, uint32_t sum);

/* The contribution of a block whose sum (vd_checksum_partial from 0) is
 * block and that starts at byte offset of the region: swapped when odd. */
uint32_t vd_checksum_block(uint32_t block, size_t offset);

/* Pseudo-header sums (TCP, UDP, UDP-Lite, DCCP, ICMPv6; not ICMPv4):
 * addresses in network order, l4_len the upper-layer length in bytes. */
uint32_t vd_checksum_pseudo_v4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
			       uint32_t l4_len);
uint32_t vd_checksum_pseudo_v6(const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
			       uint32_t l4_len);

/* RFC 1624 equation 3, HC' = ~(~HC + ~m + m'): the checksum field check
 * after data whose sum was old_sum now sums to new_sum (the sums placed
 * with vd_checksum_block when the data sits at an odd offset). */
uint16_t vd_checksum_update(uint16_t check, uint32_t old_sum, uint32_t new_sum);

/* The same for one 16-bit word, or one 32-bit word at an even offset. */
uint16_t vd_checksum_update16(uint16_t check, uint16_t old_word, uint16_t new_word);
uint16_t vd_checksum_update32(uint16_t check, uint32_t old_word, uint32_t new_word);

/* The same for a field that holds a sum that is not complemented: the
 * pseudo-header sum a CHECKSUM_PARTIAL packet carries in its L4 checksum
 * field until the kernel (or the device) finishes it. */
uint16_t vd_checksum_update_plain(uint16_t field, uint32_t old_sum, uint32_t new_sum);

/* Updates the checksum field at check (big-endian, in the packet) for n
 * bytes at offset of the region changing from old to new; n and offset
 * may be odd. Does not write the bytes themselves. */
void vd_checksum_replace(uint8_t *check, size_t offset, const void *old, const void *new,
			 size_t n);

#endif
