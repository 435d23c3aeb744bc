/*
 * fuzz_hook.c - Lua hooks over arbitrary packets: the pkt object's fields
 * and payload indexing (engine/lib/hooks/lua_packet.c), its writes
 * (lua_rewrite.c), the hook's return values (lua_return.c) and a rule's
 * `set` after them, through vd_rules_eval_edit as a queue worker calls it.
 * The table is tests/fuzz/hook.lua (VD_FUZZ_HOOK_RULES): its hooks read
 * everything and write with values and indices taken from the packet.
 *
 * Checked after each packet: the verdict is one a rule can give; the view
 * equals a fresh parse of the buffer; when the edits are to be sent, they
 * fit the buffer and keep edit.h's promises on checksums and lengths
 * (fuzz_sums.h) against the packet as it came.
 *
 * Input: byte 0 options (bit 0 GSO, bit 1 CSUM_NOT_READY), byte 1 tail room
 * in 4-byte units, then the packet.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <verdict/edit.h>
#include <verdict/log.h>
#include <verdict/packet.h>
#include <verdict/queue.h> /* VD_ERRBUF_SIZE */
#include <verdict/rules.h>
#include <verdict/verdict.h>

#include "fuzz_sums.h"
#include "fuzz_view.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vd_rules *rules;

/* Hook errors (the table's "other" rule fails on purpose) would flood the
 * fuzzer's output. */
static void quiet(enum vd_log_level level, const char *message, void *user)
{
	(void)level;
	(void)message;
	(void)user;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct vd_rules_config cfg = { .path = VD_FUZZ_HOOK_RULES, .nworkers = 1 };
	char errbuf[VD_ERRBUF_SIZE];

	(void)argc;
	(void)argv;
	vd_rules_reader_register();
	rules = vd_rules_open(&cfg, errbuf);
	if (!rules) {
		fprintf(stderr, "fuzz_hook: %s\n", errbuf);
		abort();
	}
	vd_log_set_handler(quiet, NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t opts = size > 0 ? data[0] : 0, room = size > 1 ? data[1] : 0;
	uint32_t len = size > 2 ? (uint32_t)(size - 2) : 0, capacity;
	bool gso = opts & 1;
	enum fuzz_csum_mode mode = (opts & 2) ? FUZZ_CSUM_STALE : FUZZ_CSUM_FULL;
	struct vd_rules_match m = { 0 };
	struct vd_packet_edit e;
	struct fuzz_sums before;
	struct vd_packet pkt;
	struct vd_verdict v;
	uint8_t *buf;

	if (len > VD_EDIT_MAX_LEN)
		len = VD_EDIT_MAX_LEN;
	capacity = len + room * 4u;
	if (capacity > VD_EDIT_MAX_LEN)
		capacity = VD_EDIT_MAX_LEN;
	/* Exactly capacity bytes, so that AddressSanitizer sees a write past it. */
	buf = malloc(capacity + !capacity);
	if (!buf)
		abort();
	if (len)
		memcpy(buf, data + 2, len);

	before = fuzz_sums_of(buf, len, gso);
	vd_packet_view_init(&pkt, buf, len, len);
	if (gso)
		pkt.flags |= VD_PACKET_GSO;
	if (opts & 2)
		pkt.flags |= VD_PACKET_CSUM_NOT_READY;
	vd_packet_parse(&pkt);
	vd_packet_edit_prepare(&e, &pkt, buf, capacity, 0);

	v = vd_rules_eval_edit(rules, 0, &e, &m);
	FUZZ_CHECK(v.kind == VD_VERDICT_ACCEPT || v.kind == VD_VERDICT_DROP);
	FUZZ_CHECK(pkt.data == buf);
	fuzz_view_check(&pkt, true);
	if (vd_packet_edit_pending(&e)) {
		FUZZ_CHECK(e.len <= capacity && pkt.caplen == e.len);
		FUZZ_CHECK(!m.hook_failed && !m.rewrite_failed);
		fuzz_sums_check(&e, &before, gso, mode);
	}
	vd_rules_reader_quiescent();
	free(buf);
	return 0;
}
