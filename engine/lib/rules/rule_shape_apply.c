/*
 * rule_shape_apply.c - a rule's shaping on one worker (rule_shape.h): the
 * state built with the table, and the per-packet order loss, limit, rate,
 * delay + jitter.
 *
 * The packets this worker holds for the rule are their release times, in a
 * ring while they come in order (a constant delay) and a min-heap for the
 * rest, those already released popped (and reported) on each of the rule's
 * packets: limit counts against it, the stats' held and released
 * come from it. A reload builds fresh state: packets held under the old
 * table no longer count against the new one's limit (they stay held: the
 * engine has them).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rule_shape.h"

/* The probe window of a flow's bucket in the table. */
#define FLOW_PROBES 8u

struct vd_rule_shape_flow {
	uint64_t key;       /* 0: empty */
	uint64_t used_ns;   /* last packet */
	struct vd_bucket bucket;
};

int vd_rule_shape_state_init(struct vd_rule_shape_state *st, const struct vd_rule_shape *s,
			     bool seeded, uint64_t seed, unsigned worker, unsigned rule,
			     uint32_t hold_max)
{
	memset(st, 0, sizeof(*st));
	if (seeded)
		vd_rng_seed(&st->rng, seed ^ ((uint64_t)worker << 32) ^ ((uint64_t)rule * 0x9e3779b97f4a7c15ull));
	else
		vd_rng_seed_clock(&st->rng);
	st->loss = s->loss;
	vd_bucket_init(&st->bucket, s->rate_bps, s->burst_bytes);
	if ((s->keys & VD_SHAPE_RATE) && s->per != VD_SHAPE_PER_RULE &&
	    !(st->flows = calloc(VD_SHAPE_FLOWS, sizeof(*st->flows))))
		return -1;
	/* calloc'ed: only as much is resident as was ever held. */
	st->held_cap = (s->keys & VD_SHAPE_LIMIT) ? s->limit : hold_max;
	if (st->held_cap && (!(st->held = calloc(st->held_cap, sizeof(*st->held))) ||
			     !(st->ring = calloc(st->held_cap, sizeof(*st->ring)))))
		return -1;
	return 0;
}

void vd_rule_shape_state_free(struct vd_rule_shape_state *st)
{
	free(st->flows);
	free(st->held);
	free(st->ring);
	memset(st, 0, sizeof(*st));
}

static uint64_t mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static uint64_t mix_bytes(uint64_t h, const uint8_t *b, size_t n)
{
	uint64_t w;

	for (size_t i = 0; i < n; i += 8) {
		w = 0;
		memcpy(&w, b + i, n - i < 8 ? n - i : 8);
		h = mix(h, w);
	}
	return h;
}

static uint64_t flow_key(enum vd_rule_shape_per per, const struct vd_packet *p)
{
	size_t alen = p->ip_version == 6 ? 16 : 4;
	uint64_t h = mix(0, p->ip_version);

	if (per != VD_SHAPE_PER_DST)
		h = mix_bytes(h, p->src, alen);
	if (per != VD_SHAPE_PER_SRC)
		h = mix_bytes(h, p->dst, alen);
	if (per == VD_SHAPE_PER_FLOW)
		h = mix(h, ((uint64_t)p->l4_proto << 32) | ((uint64_t)p->sport << 16) | p->dport);
	/* The table is indexed by the low bits: fold the high ones in (a
	 * multiply carries changes only upwards, so ports, in bits 0-31 of
	 * their word, would otherwise leave the low bits alike). */
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h ? h : 1;
}

/* The flow's bucket: its own, an empty one, or the least recently used of
 * the probe window (restarted full: an idle bucket is full anyway). */
static struct vd_bucket *flow_bucket(const struct vd_rule_shape *s, struct vd_rule_shape_state *st,
				     const struct vd_packet *p, uint64_t now)
{
	uint64_t key = flow_key(s->per, p);
	struct vd_rule_shape_flow *pick = NULL;

	for (unsigned i = 0; i < FLOW_PROBES; i++) {
		struct vd_rule_shape_flow *f = &st->flows[(key + i) & (VD_SHAPE_FLOWS - 1)];

		if (f->key == key) {
			f->used_ns = now;
			return &f->bucket;
		}
		/* Entries are never emptied: an empty one ends the window. */
		if (f->key == 0) {
			pick = f;
			break;
		}
		if (!pick || f->used_ns < pick->used_ns)
			pick = f;
	}
	pick->key = key;
	pick->used_ns = now;
	vd_bucket_init(&pick->bucket, s->rate_bps, s->burst_bytes);
	return &pick->bucket;
}

/* --- the held packets' release times: a ring and a binary min-heap --- */

static void heap_pop(struct vd_rule_shape_state *st)
{
	uint64_t *h = st->held, last = h[--st->nheap];
	uint32_t i = 0, n = st->nheap;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1] < h[c])
			c++;
		if (last <= h[c])
			break;
		h[i] = h[c];
		i = c;
	}
	if (n)
		h[i] = last;
}

static void heap_push(struct vd_rule_shape_state *st, uint64_t t)
{
	uint64_t *h = st->held;
	uint32_t i = st->nheap++;

	while (i > 0 && h[(i - 1) / 2] > t) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = t;
}

static uint32_t ring_index(const struct vd_rule_shape_state *st, uint32_t i)
{
	uint32_t at = st->ring_head + i;

	return at >= st->held_cap ? at - st->held_cap : at;
}

/* The earliest release time held (nheld > 0). */
static uint64_t held_earliest(const struct vd_rule_shape_state *st)
{
	uint64_t r = st->ring_len ? st->ring[st->ring_head] : UINT64_MAX;

	return st->nheap && st->held[0] < r ? st->held[0] : r;
}

/* Forgets the earliest release time (nheld > 0). */
static void held_pop(struct vd_rule_shape_state *st)
{
	if (st->nheap && (!st->ring_len || st->held[0] < st->ring[st->ring_head])) {
		heap_pop(st);
	} else {
		st->ring_head = ring_index(st, 1);
		st->ring_len--;
	}
	st->nheld--;
}

/* Remembers a release time (nheld < held_cap): O(1) when it is not before
 * the last one in the ring. */
static void held_push(struct vd_rule_shape_state *st, uint64_t t)
{
	if (st->ring_len == 0 || t >= st->ring[ring_index(st, st->ring_len - 1)])
		st->ring[ring_index(st, st->ring_len++)] = t;
	else
		heap_push(st, t);
	st->nheld++;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Pops the holds whose release time is at or before now, counting them. */
static void held_release(struct vd_rule_shape_state *st, uint64_t now, struct vd_shape_report *out)
{
	while (st->nheld && held_earliest(st) <= now) {
		held_pop(st);
		out->released++;
	}
}

/* Hot path: no allocation, no lock; one vDSO clock read. */
struct vd_verdict vd_rule_shape_apply(const struct vd_rule_shape *s, struct vd_rule_shape_state *st,
				      const struct vd_packet *pkt, struct vd_verdict v,
				      struct vd_shape_report *out)
{
	/* A hook's own delay comes first; the rule's adds to it. */
	uint64_t now = now_ns(), wait = (uint64_t)v.delay_us * 1000u;

	*out = (struct vd_shape_report){ .outcome = VD_SHAPE_NOTHING, .now_ns = now };
	held_release(st, now, out);
	out->held = st->nheld;
	if ((s->keys & VD_SHAPE_LOSS) && vd_loss_drop(&st->loss, &st->rng)) {
		out->outcome = VD_SHAPE_LOSS_DROPPED;
		return vd_verdict_drop();
	}
	if ((s->keys & VD_SHAPE_LIMIT) && st->nheld >= s->limit) {
		out->outcome = VD_SHAPE_LIMIT_DROPPED;
		return vd_verdict_drop();
	}
	if (s->keys & VD_SHAPE_RATE) {
		struct vd_bucket *b = st->flows ? flow_bucket(s, st, pkt, now) : &st->bucket;

		wait = vd_bucket_wait_ns(b, pkt->len, now);
	}
	if (s->keys & VD_SHAPE_DELAY)
		wait += vd_distribution_sample(&st->rng, s->distribution, s->delay_ns, s->jitter_ns);
	v = vd_verdict_delay(v, wait);
	if (v.delay_us == 0)
		return v;
	out->outcome = VD_SHAPE_DELAYED;
	out->release_ns = now + (uint64_t)v.delay_us * 1000u;
	if (st->held_cap) {
		/* Full without a limit: more than the queue can hold, so the
		 * earliest went out at once (hold_overflow); count it released. */
		if (st->nheld >= st->held_cap) {
			held_pop(st);
			out->released++;
		}
		held_push(st, out->release_ns);
	}
	out->held = st->nheld;
	return v;
}
