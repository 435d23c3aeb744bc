/*
 * queue_answer_fixture.h - a queue's answer path without a kernel: packet
 * messages built as nfnetlink_queue sends them, fed to vd_queue_answer, and
 * the verdict batch applied the way nfqnl_recv_verdict(_batch) applies it
 * (test_queue_answer.c, test_queue_answer_edit.c).
 */
#ifndef VT_QUEUE_ANSWER_FIXTURE_H
#define VT_QUEUE_ANSWER_FIXTURE_H
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "nfq_message.h"
#include "helpers.h"
#include "queue_answer.h"
#include "verdict_wire.h"

#define MAXP 16
#define NSLOTS 64
#define ROOM 1024 /* bytes of a receive slot in these tests */

/* IPv4 UDP 198.18.0.1:1234 -> 198.18.0.2:53, 4 bytes of payload; the
 * checksums are filled in by setup. */
extern uint8_t udp4[32];

/* What the edit callback does with packet id (enum plan). */
enum plan { PLAN_NONE, PLAN_TTL, PLAN_TTL_DROP, PLAN_TTL_DISCARD, PLAN_GROW, PLAN_GROW_BIG,
	    PLAN_TTL_BYPASS, PLAN_DELAYED_REJECT };

struct fixture {
	struct vd_queue_config cfg;
	struct vd_queue_stats delta;
	struct vd_verdict_batch vb;
	struct vd_queue_answer answer;
	uint8_t vb_buf[8192] __attribute__((aligned(8)));
	/* Receive slots: a packet's bytes must stay until its batch is sent. */
	uint8_t slots[NSLOTS][ROOM] __attribute__((aligned(8)));
	unsigned nfed;
	unsigned flushes;
	struct vt_wire *wire;
	enum plan plan[64];
	/* What the edit callback saw last. */
	struct vd_packet_edit *seen_edit;
	uint8_t *seen_buf;
	uint32_t seen_capacity;
	/* Each packet id's verdict code as the kernel would apply the batch:
	 * a batch verdict covers every id up to its own not yet answered. */
	int64_t verdict_of[64];
	/* The packet a verdict carried, copied out of the datagram. */
	uint8_t payload_of[64][128];
	uint32_t payload_len_of[64];
};

/* Applies the batch's messages the way nfqnl_recv_verdict(_batch) does. */
void apply(struct fixture *f);
/* The edit callback (f->plan[id] says what it does to packet id). */
void use_edit_cb(struct fixture *f);
struct vd_verdict repeat_fallback(void *user);
int setup(void **state);
int teardown(void **state);
/* A packet message as the kernel sends it: header attribute first. */
size_t put_packet(uint8_t *buf, uint32_t id, bool with_payload);
/* The packet as received into the next slot (cut: bytes received, 0: all). */
void feed(struct fixture *f, uint32_t id, size_t cut);
/* Where put_packet's packet starts in its slot. */
size_t packet_offset(void);
/* The IPv4 and UDP checksums and lengths of a packet sent back are right. */
void assert_packet_valid(const uint8_t *p, uint32_t len);

#endif
