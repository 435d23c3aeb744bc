/* verdict_wire.h - a verdict batch read back as the kernel receives it: its
 * iovecs joined into one datagram, walked message by message, payloads
 * included, for the tests of verdict folding and of rewritten packets. */
#ifndef VD_TEST_VERDICT_WIRE_H
#define VD_TEST_VERDICT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "helpers.h"
#include "verdict_batch.h"

struct vt_wire_msg {
	struct vt_verdict_msg v;
	const uint8_t *payload;   /* NULL: no NFQA_PAYLOAD */
	uint32_t payload_len;
	uint32_t nlmsg_len;
};

struct vt_wire {
	uint8_t flat[1 << 20];    /* the datagram */
	size_t len;
	unsigned niov;
	struct vt_wire_msg msgs[2048];
	int n;
};

/* Finishes vb and reads what it would send into w (the batch is not reset).
 * Asserts that the iovecs add up to what finish returned, that the
 * messages tile the datagram exactly, and that the padding after each
 * payload is zero. Returns the number of messages. */
int vt_wire_read(struct vd_verdict_batch *vb, struct vt_wire *w);

#endif
