/* edit_fixture.h - packets built, checksummed by the reference (helpers.c)
 * and opened for editing, for the packet edit tests. */
#ifndef VD_TEST_EDIT_FIXTURE_H
#define VD_TEST_EDIT_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include <verdict/edit.h>
#include "helpers.h"

#define CAPACITY (VT_PACKET_MAX + 512)

struct vt_edit_fixture {
	uint8_t buf[CAPACITY];
	size_t len;
	struct vd_packet pkt;
	struct vd_packet_edit edit;
};

/* A fixed-seed generator: failures reproduce. */
uint32_t vt_rng(void);
uint16_t vt_be16(const uint8_t *p);
bool vt_has_l4_checksum(uint8_t proto);

/* Builds (IPv4 when v is 4, else IPv6), fills the L4 checksum with the
 * reference, parses, starts the edit with options. */
void vt_edit_make(struct vt_edit_fixture *f, int v, const struct vt_ipv4 *ip4,
		  const struct vt_ipv6 *ip6, const struct vt_l4 *l4, unsigned options);
void vt_edit_make_simple(struct vt_edit_fixture *f, int v, uint8_t proto, size_t payload_len);

/* Every length and checksum of the edited packet is right, and a fresh
 * parse of it agrees with the edit's view. */
void vt_edit_assert_valid(const struct vt_edit_fixture *f, bool udp_zero);

#endif
