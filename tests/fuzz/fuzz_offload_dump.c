/*
 * fuzz_offload_dump.c - the reader of the kernel's nf_tables rule dumps
 * (engine/daemon/offload_netlink.c, the offloaded rules' hit counters) over
 * arbitrary bytes. The first byte picks the flavour (bit 0: nft) and how
 * many rules the table has (the rest, 0-127); the others are the dump.
 * Invariants: it counts at most one rule per message, adds only to
 * hits[0, n), and reading the same bytes twice adds the same again.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "firewall_offload.h"
#include "internal.h"
#include "fuzz_view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GUARD 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t hits[128 + GUARD], again[128 + GUARD];
	size_t n, counted, messages = 0;
	bool nft;
	uint8_t *buf;

	if (size < 1)
		return 0;
	nft = data[0] & 1;
	n = data[0] >> 1;
	/* Netlink messages start 4-byte aligned: an exact-size copy, so that
	 * AddressSanitizer sees a read past the end. */
	buf = malloc(size - 1 ? size - 1 : 1);
	FUZZ_CHECK(buf != NULL);
	memcpy(buf, data + 1, size - 1);
	memset(hits, 0, sizeof(hits));
	counted = vd_offload_counters_nl_parse(buf, size - 1, nft, hits, n);
	for (size_t i = n; i < 128 + GUARD; i++)
		FUZZ_CHECK(hits[i] == 0);
	/* Each counted rule is one whole message of the buffer. */
	{
		size_t left = size - 1;

		for (const struct nlmsghdr *nlh = (const void *)buf; vd_nl_msg_ok(nlh, left);
		     nlh = vd_nl_msg_next(nlh, &left))
			messages++;
	}
	FUZZ_CHECK(counted <= messages);
	memcpy(again, hits, sizeof(hits));
	FUZZ_CHECK(vd_offload_counters_nl_parse(buf, size - 1, nft, again, n) == counted);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(again[i] - hits[i] == hits[i]);
	free(buf);
	return 0;
}
