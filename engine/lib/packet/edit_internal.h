/*
 * edit_internal.h - what edit.c and edit_l4.c share: the L4 checksum state
 * and the writers that keep checksums right. Private to the packet editor.
 */
#ifndef VD_EDIT_INTERNAL_H
#define VD_EDIT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <verdict/edit.h>

#define IPV4_CHECK_OFF 10u
#define IPV4_DF 0x4000u
#define TCP_HEADER_MIN 20u
#define TCP_FLAGS_OFF 13u
#define TCP_OPTION_MSS 2u
#define TCP_MAX_OPTIONS 20u /* 40 option bytes of at least 2 each */

#ifndef IPPROTO_DCCP
#define IPPROTO_DCCP 33
#endif

/* What the L4 checksum field holds and how edits keep it. */
enum l4_csum_state {
	L4_CSUM_NONE = 0, /* nothing we keep: no such field, SCTP, later fragment */
	L4_CSUM_FULL,     /* a complete checksum: updated incrementally */
	L4_CSUM_ZERO,     /* IPv4 UDP sent without a checksum: stays 0 */
	L4_CSUM_STALE,    /* computed in full before the first edit: CSUM_NOT_READY,
			   * or an IPv6 UDP checksum of 0 */
	L4_CSUM_PARTIAL,  /* VD_EDIT_KEEP_PARTIAL: the plain pseudo-header sum */
};

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline bool is_v4(const struct vd_packet_edit *edit)
{
	return edit->pkt->ip_version == 4;
}

/* Bytes from the L4 header to the end of the datagram: the upper-layer
 * length of the pseudo-header. */
static inline uint32_t l4_length(const struct vd_packet_edit *edit)
{
	return edit->pkt->l3_len - edit->pkt->l3_header_len;
}

/* Runs vd_packet_edit_init's checks after vd_packet_edit_prepare. */
int vd_edit_start(struct vd_packet_edit *edit);

/* Every public operation calls this first: 0 once the edit is started. */
static inline int vd_edit_ready(struct vd_packet_edit *edit)
{
	edit->reason = VD_EDIT_OK;
	return edit->started ? 0 : vd_edit_start(edit);
}

/* Sets edit->reason and returns its negative errno. */
int vd_edit_refuse(struct vd_packet_edit *edit, enum vd_edit_reason reason);

/* Every operation that will write calls this once its checks passed: it
 * completes a stale L4 checksum (or refuses on a fragment). */
int vd_edit_begin(struct vd_packet_edit *edit);

/* Writes n bytes of the IPv4 header at off, updating its checksum. */
void vd_edit_ip4_write(struct vd_packet_edit *edit, uint32_t off, const void *bytes, uint32_t n);

/* Writes n bytes of the L4 segment at buffer offset off (never its checksum
 * field), updating a complete L4 checksum incrementally. */
void vd_edit_l4_write(struct vd_packet_edit *edit, uint32_t off, const void *bytes, uint32_t n);

/* A group of pseudo-header words summing old_sum now sums new_sum. */
void vd_edit_pseudo_change(struct vd_packet_edit *edit, uint32_t old_sum, uint32_t new_sum);

/* The full L4 checksum over the whole segment. Never on a fragment. */
void vd_edit_l4_csum_compute(struct vd_packet_edit *edit);

#endif
