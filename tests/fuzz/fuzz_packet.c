/*
 * fuzz_packet.c - the packet parser (engine/lib/packet/parse.c) over
 * arbitrary bytes: vd_packet_view_init + vd_packet_parse, then the view's
 * invariants (fuzz_view.h). Each input is parsed twice: as a whole packet,
 * and as a capture cut short of a longer wire packet (the copy range's cut),
 * with and without the kernel's GSO flag (BIG TCP length rules).
 */
#include <stddef.h>
#include <stdint.h>

#include <verdict/packet.h>

#include "fuzz_view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_as(const uint8_t *data, uint32_t caplen, uint32_t len, bool gso)
{
	struct vd_packet pkt;

	vd_packet_view_init(&pkt, data, caplen, len);
	if (gso)
		pkt.flags |= VD_PACKET_GSO;
	vd_packet_parse(&pkt);
	fuzz_view_check(&pkt, true);
	FUZZ_CHECK(pkt.data == data && pkt.caplen == caplen);
	FUZZ_CHECK(!!(pkt.flags & VD_PACKET_GSO) == gso);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t caplen = size > UINT16_MAX ? UINT16_MAX : (uint32_t)size;

	parse_as(data, caplen, caplen, false);
	/* A cut capture: the wire length from the last two bytes, so that the
	 * fuzzer steers it, and far larger too (BIG TCP). */
	if (caplen >= 2) {
		uint32_t extra = (uint32_t)data[caplen - 2] << 8 | data[caplen - 1];

		parse_as(data, caplen - 2, caplen - 2 + extra, false);
		parse_as(data, caplen - 2, caplen - 2 + extra + 0x10000u, true);
	}
	return 0;
}
