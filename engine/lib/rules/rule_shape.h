/*
 * rule_shape.h - a rule's shaping keys (netem's vocabulary): loss, limit,
 * rate with burst (per rule or per flow), delay with jitter and a
 * distribution; read by the loader, applied to the rule's verdict by the
 * rule table, printed by --check.
 *
 * The configuration (struct vd_rule_shape) is part of the immutable rule.
 * The state (struct vd_rule_shape_state: generator, loss model state,
 * buckets, the release times of held packets) is per worker per rule,
 * allocated when the table is built and touched by that worker alone.
 */
#ifndef VD_RULE_SHAPE_H
#define VD_RULE_SHAPE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <verdict/packet.h>
#include <verdict/verdict.h>

#include "../shaping/shaping.h" /* by path: internal.h brings rule.h to the daemon */

struct loader;
struct vd_rule;

/* Which keys a rule gave (vd_rule_shape.keys). */
enum vd_rule_shape_key {
	VD_SHAPE_DELAY = 1u << 0,
	VD_SHAPE_JITTER = 1u << 1,
	VD_SHAPE_DISTRIBUTION = 1u << 2,
	VD_SHAPE_LOSS = 1u << 3,
	VD_SHAPE_RATE = 1u << 4,
	VD_SHAPE_BURST = 1u << 5,
	VD_SHAPE_PER = 1u << 6,
	VD_SHAPE_LIMIT = 1u << 7,
};

/* What a rate is kept per: one bucket for the rule, or one per flow
 * (protocol, addresses and ports), per source or per destination address. */
enum vd_rule_shape_per { VD_SHAPE_PER_RULE, VD_SHAPE_PER_FLOW, VD_SHAPE_PER_SRC, VD_SHAPE_PER_DST };

/* Buckets per worker per rule for `per`: a flow beyond them takes the
 * least recently used bucket of its probe window (which starts full). */
#define VD_SHAPE_FLOWS 4096u

/* The most packets `limit` may name. */
#define VD_SHAPE_LIMIT_MAX 1000000u

struct vd_rule_shape {
	uint32_t keys;                 /* enum vd_rule_shape_key; 0: none */
	uint64_t delay_ns, jitter_ns;
	enum vd_distribution distribution;
	struct vd_loss loss;           /* the model as configured (state good) */
	uint64_t rate_bps, burst_bytes;
	enum vd_rule_shape_per per;
	uint32_t limit;
};

/* What shaping did to a packet. */
enum vd_shape_outcome {
	VD_SHAPE_NOTHING,
	VD_SHAPE_DELAYED,       /* delay_us > 0 */
	VD_SHAPE_LOSS_DROPPED,
	VD_SHAPE_LIMIT_DROPPED,
};

/* What shaping did to a packet, and what the rule holds on this worker
 * (vd_rule_shape_apply), for the rule table's counters. */
struct vd_shape_report {
	enum vd_shape_outcome outcome;
	uint32_t released;     /* held packets whose release time passed, found now */
	uint32_t held;         /* packets held for the rule now (this one included) */
	uint64_t now_ns;       /* the clock read for this packet (0: none) */
	uint64_t release_ns;   /* VD_SHAPE_DELAYED: this packet's release time */
};

struct vd_rule_shape_flow;

struct vd_rule_shape_state {
	struct vd_rng rng;
	struct vd_loss loss;
	struct vd_bucket bucket;            /* per = rule */
	struct vd_rule_shape_flow *flows;   /* per = flow, src, dst: VD_SHAPE_FLOWS */
	/* The release times of held packets: those in order (a constant
	 * delay's) in a ring, O(1); the rest in a min-heap. */
	uint64_t *ring, *held;              /* held_cap each */
	uint32_t ring_head, ring_len, nheap;
	uint32_t nheld, held_cap;           /* nheld: ring_len + nheap; held_cap: limit, or
					     * the queue's hold_max */
};

/* Reads key k of rule r (the value at the top of ld->L's stack): 0, -1
 * after vd_rule_fail, 1 when k is not a shaping key. */
int vd_rule_shape_read(struct loader *ld, struct vd_rule *r, const char *k);

/* The keys that go together, once the rule was read: 0 or -1. */
int vd_rule_shape_check(struct loader *ld, const struct vd_rule *r);

/* Whether the rule can hold packets (delay or rate). */
bool vd_rule_shape_delays(const struct vd_rule_shape *s);

/* Builds worker state for s: seeded from seed (the file's `seed`, mixed
 * with worker and rule so that no two streams repeat each other), or from
 * the clock when !seeded. The release times of up to hold_max held packets
 * are kept (limit's, when s has a limit): a worker's queue never holds more.
 * 0, or -1 (out of memory). */
int vd_rule_shape_state_init(struct vd_rule_shape_state *st, const struct vd_rule_shape *s,
			     bool seeded, uint64_t seed, unsigned worker, unsigned rule,
			     uint32_t hold_max);
void vd_rule_shape_state_free(struct vd_rule_shape_state *st);

/* Applies s to v (accept, repeat or queue), in netem's order: loss, limit,
 * rate, delay + jitter. Returns v with its delay, or a drop; *out tells what
 * happened and counts the held packets whose release time passed (a packet
 * counts as held from its verdict to its release time, as the queue holds
 * it). Hot path: one clock read, no allocation, no lock. */
struct vd_verdict vd_rule_shape_apply(const struct vd_rule_shape *s, struct vd_rule_shape_state *st,
				      const struct vd_packet *pkt, struct vd_verdict v,
				      struct vd_shape_report *out);

/* " delay=20ms jitter=5ms distribution=normal loss=1% ..." for --check. */
void vd_rule_shape_print(const struct vd_rule_shape *s, FILE *out);

#endif
