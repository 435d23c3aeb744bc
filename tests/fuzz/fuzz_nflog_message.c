/*
 * fuzz_nflog_message.c - the NFLOG decoder (engine/lib/netlink/
 * nflog_message.c) over a datagram as the kernel would send it (one or more
 * netlink messages; the seeds were captured from a real log group): every
 * message goes to vd_nflog_message_decode, as the log worker's receive loop
 * does, and each view that comes out must keep the parser's invariants with
 * every pointer (payload, prefix and its NUL, hardware and L2 headers)
 * inside its own message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "fuzz_view.h"
#include "nl_attr.h"
#include "nflog_message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t buflen = NLMSG_ALIGN(size);
	const struct nlmsghdr *nlh;
	uint8_t *buf;
	size_t remaining;

	if (size > (1u << 20))
		return -1;
	/* A receive buffer ends 4-byte aligned (the decoders read up to it). */
	buf = calloc(1, buflen ? buflen : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	nlh = (const struct nlmsghdr *)buf;
	remaining = size;
	for (; vd_nl_msg_ok(nlh, remaining); nlh = vd_nl_msg_next(nlh, &remaining)) {
		struct vd_packet pkt;

		memset(&pkt, 0xa5, sizeof(pkt));
		if (vd_nflog_message_decode(nlh, &pkt) < 0) {
			FUZZ_CHECK(nlh->nlmsg_type != VD_NFLOG_MSG_PACKET ||
				   nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg));
			continue;
		}
		FUZZ_CHECK(nlh->nlmsg_type == VD_NFLOG_MSG_PACKET);
		FUZZ_CHECK(pkt.source == VD_SOURCE_NFLOG && pkt.id == 0);
		fuzz_view_check(&pkt, pkt.caplen > 0);
		fuzz_view_check_meta(&pkt, nlh, NLMSG_ALIGN(nlh->nlmsg_len));
	}
	free(buf);
	return 0;
}
