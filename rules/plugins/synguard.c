/*
 * synguard.c - an example verdictd plugin: a SYN-flood guard that drops TCP
 * SYNs (SYN without ACK) from a source address that sends more than its
 * share, and accepts every other packet.
 *
 * Rule:
 *     { name = "syn-guard", proto = "tcp", tcp_flags = "syn,!ack", dport = 80,
 *       plugin = "synguard.so", symbol = "synguard_eval",
 *       args = "rate=20,burst=40" }
 *
 * args, comma-separated key=value pairs, all optional:
 *   rate=N       SYNs per second a source may sustain (1-1000000; default 20)
 *   burst=N      SYNs a quiet source may send at once (1-1000000; default 40)
 *   slots=N      sources tracked per worker, rounded up to a power of two
 *                (16-4194304; default 16384; 32 bytes each)
 *   v6_prefix=N  IPv6 sources are counted per /N (1-128; default 128). Use
 *                64 where one host can pick any address in its /64.
 *   clock=C      "monotonic" (default): CLOCK_MONOTONIC when the SYN is
 *                evaluated. "packet": the kernel's receive timestamp
 *                (VD_META_TIMESTAMP), for replays and tests; a packet without
 *                one counts at the latest timestamp seen.
 * A bad arg makes init print one line naming it to stderr and return
 * -EINVAL, so the rules file is refused.
 *
 * The limit is a token bucket per source, kept as GCRA (one "theoretical
 * arrival time" per source): a SYN is accepted while the source's tat runs
 * at most (burst - 1) / rate seconds ahead of now, and each accepted SYN
 * moves tat 1 / rate further. Dropped SYNs cost nothing, so a source that
 * floods still gets `rate` SYNs per second through.
 *
 * State is per worker (no lock): a fixed open-addressing table allocated by
 * init and freed by fini. With several workers a source whose SYNs the kernel
 * spreads over queues may get up to workers x rate. When the table is full a
 * new source takes the slot, among the 8 it may use, whose bucket is fullest;
 * the hash is seeded per state so that an attacker cannot aim collisions at
 * a victim's slot. Spoofed floods from many sources are what SYN cookies are
 * for: this guard limits real hosts.
 *
 * Depends on the inline parts of verdict/packet.h and verdict/verdict.h only,
 * so it loads into any verdictd with hook ABI 2 (it makes no edits).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/random.h>

#include <verdict/hook.h>

VD_HOOK_PLUGIN_DECLARE();

VD_HOOK_EXPORT int synguard_init(const struct vd_hook_context *ctx, void **state);
VD_HOOK_EVAL(synguard_eval);
VD_HOOK_EXPORT void synguard_fini(void *state);

#define NS_PER_SECOND 1000000000ull
/* Slots a source may live in, from its hash on: 4 cache lines. */
#define SYNGUARD_PROBE 8

struct synguard_config {
	unsigned rate, burst, slots, v6_prefix;
	bool packet_clock;
};

struct synguard_slot {
	uint64_t tat;      /* when this source's bucket is full again, ns */
	uint8_t addr[16];  /* IPv4: the first 4 bytes; IPv6: masked to v6_prefix */
	uint8_t family;    /* 0: empty, 4 or 6 */
};

struct synguard {
	struct synguard_slot *slots;
	uint32_t mask;          /* number of slots - 1 */
	uint64_t interval_ns;   /* 1 s / rate: what one SYN costs */
	uint64_t tolerance_ns;  /* (burst - 1) x interval: how far tat may lead */
	uint64_t seed[2];
	uint64_t last_ns;       /* clock=packet: latest timestamp, never goes back */
	bool packet_clock;
	uint8_t v6_mask[16];
};

/* --- args --- */

static const struct synguard_limit {
	const char *key;
	size_t offset;
	unsigned lo, hi;
} synguard_limits[] = {
	{ "rate", offsetof(struct synguard_config, rate), 1, 1000000 },
	{ "burst", offsetof(struct synguard_config, burst), 1, 1000000 },
	{ "slots", offsetof(struct synguard_config, slots), 16, 1u << 22 },
	{ "v6_prefix", offsetof(struct synguard_config, v6_prefix), 1, 128 },
};

static bool parse_uint(const char *v, size_t n, unsigned lo, unsigned hi, unsigned *out)
{
	uint64_t x = 0;

	if (n == 0 || n > 10)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (x < lo || x > hi)
		return false;
	*out = (unsigned)x;
	return true;
}

static int config_set(struct synguard_config *cfg, const char *key, size_t klen,
		      const char *val, size_t vlen, char *why, size_t whylen)
{
	if (klen == 5 && memcmp(key, "clock", 5) == 0) {
		if (vlen == 6 && memcmp(val, "packet", 6) == 0)
			return cfg->packet_clock = true, 0;
		if (vlen == 9 && memcmp(val, "monotonic", 9) == 0)
			return cfg->packet_clock = false, 0;
		snprintf(why, whylen, "clock must be \"monotonic\" or \"packet\", not \"%.*s\"",
			 (int)vlen, val);
		return -1;
	}
	for (size_t i = 0; i < sizeof(synguard_limits) / sizeof(synguard_limits[0]); i++) {
		const struct synguard_limit *l = &synguard_limits[i];

		if (strlen(l->key) != klen || memcmp(l->key, key, klen) != 0)
			continue;
		if (parse_uint(val, vlen, l->lo, l->hi, (unsigned *)((char *)cfg + l->offset)))
			return 0;
		snprintf(why, whylen, "%s must be a whole number from %u to %u, not \"%.*s\"",
			 l->key, l->lo, l->hi, (int)vlen, val);
		return -1;
	}
	snprintf(why, whylen, "unknown key \"%.*s\" (known: rate, burst, slots, v6_prefix, clock)",
		 (int)klen, key);
	return -1;
}

/* Reads "key=value,key=value" into cfg; NULL or "" keeps the defaults. */
static int config_parse(const char *args, struct synguard_config *cfg, char *why, size_t whylen)
{
	const char *p = args;

	while (p && *p) {
		size_t n = strcspn(p, ","), k = strcspn(p, "=");

		if (k >= n) {
			snprintf(why, whylen, "\"%.*s\" is not key=value", (int)n, p);
			return -1;
		}
		if (config_set(cfg, p, k, p + k + 1, n - k - 1, why, whylen) < 0)
			return -1;
		p += n + (p[n] == ',');
	}
	return 0;
}

/* --- state --- */

static uint32_t round_up_pow2(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/* The hash is keyed so that colliding sources cannot be chosen offline;
 * without getrandom the seed is at least not a constant. */
static void seed_init(struct synguard *g)
{
	struct timespec ts;

	if (getrandom(g->seed, sizeof(g->seed), GRND_NONBLOCK) == (ssize_t)sizeof(g->seed))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	g->seed[0] = (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)g;
	g->seed[1] = (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)g->slots;
}

static void state_configure(struct synguard *g, const struct synguard_config *cfg)
{
	g->mask = round_up_pow2(cfg->slots) - 1;
	g->interval_ns = NS_PER_SECOND / cfg->rate;
	g->tolerance_ns = (uint64_t)(cfg->burst - 1) * g->interval_ns;
	g->packet_clock = cfg->packet_clock;
	for (unsigned bit = 0; bit < cfg->v6_prefix; bit++)
		g->v6_mask[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
	seed_init(g);
}

int synguard_init(const struct vd_hook_context *ctx, void **state)
{
	struct synguard_config cfg = { .rate = 20, .burst = 40, .slots = 16384, .v6_prefix = 128 };
	struct synguard *g;
	char why[160];

	*state = NULL;
	if (config_parse(ctx->args, &cfg, why, sizeof(why)) < 0) {
		fprintf(stderr, "synguard: rule \"%s\": args \"%s\": %s\n",
			ctx->rule_name ? ctx->rule_name : "?", ctx->args, why);
		return -EINVAL;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->slots = calloc(round_up_pow2(cfg.slots), sizeof(*g->slots));
	if (!g->slots) {
		free(g);
		return -ENOMEM;
	}
	state_configure(g, &cfg);
	*state = g;
	return 0;
}

void synguard_fini(void *state)
{
	struct synguard *g = state;

	if (!g)
		return;
	free(g->slots);
	free(g);
}

/* --- the hot path --- */

static uint64_t mix64(uint64_t x)
{
	/* splitmix64's finalizer: every input bit reaches every output bit */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint32_t slot_hash(const struct synguard *g, const struct synguard_slot *key)
{
	uint64_t a, b;

	memcpy(&a, key->addr, 8);
	memcpy(&b, key->addr + 8, 8);
	return (uint32_t)mix64(mix64(a ^ g->seed[0] ^ key->family) + (b ^ g->seed[1]));
}

static bool slot_free(const struct synguard_slot *s, uint64_t now)
{
	return s->family == 0 || s->tat <= now; /* a full bucket is as good as none */
}

/* The slot that counts key's SYNs. A source not in its probe window takes
 * the first free slot there, else the one closest to full (it loses the
 * least). Slots are never emptied, so key cannot sit past an empty slot. */
static struct synguard_slot *slot_get(struct synguard *g, const struct synguard_slot *key,
				      uint64_t now)
{
	uint32_t h = slot_hash(g, key);
	struct synguard_slot *victim = NULL;

	for (uint32_t p = 0; p < SYNGUARD_PROBE; p++) {
		struct synguard_slot *s = &g->slots[(h + p) & g->mask];

		if (s->family == key->family && memcmp(s->addr, key->addr, 16) == 0)
			return s;
		if (!victim || (!slot_free(victim, now) && (slot_free(s, now) || s->tat < victim->tat)))
			victim = s;
		if (s->family == 0)
			break;
	}
	*victim = *key;
	victim->tat = now;
	return victim;
}

static uint64_t synguard_now(struct synguard *g, const struct vd_packet *pkt)
{
	struct timespec ts;

	if (g->packet_clock) {
		if ((pkt->meta & VD_META_TIMESTAMP) && pkt->timestamp_ns > g->last_ns)
			g->last_ns = pkt->timestamp_ns;
		return g->last_ns;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no syscall */
	return (uint64_t)ts.tv_sec * NS_PER_SECOND + (uint64_t)ts.tv_nsec;
}

/* A source's address as a table key: IPv6 cut to v6_prefix. */
static void source_key(const struct synguard *g, const struct vd_packet *pkt,
		       struct synguard_slot *key)
{
	memset(key, 0, sizeof(*key));
	key->family = pkt->ip_version;
	if (pkt->ip_version == 4) {
		memcpy(key->addr, pkt->src, 4);
		return;
	}
	for (int i = 0; i < 16; i++)
		key->addr[i] = pkt->src[i] & g->v6_mask[i];
}

/* Hot path: a hash, at most SYNGUARD_PROBE slot compares, no allocation,
 * no lock, no syscall. Packets other than a parsed TCP SYN are accepted. */
struct vd_verdict synguard_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
				void *state)
{
	struct synguard *g = state;
	struct synguard_slot key, *s;
	uint64_t now, tat;

	if (!vd_packet_has_l4(pkt) || pkt->l4_proto != IPPROTO_TCP ||
	    (pkt->ip_version != 4 && pkt->ip_version != 6) ||
	    (pkt->tcp_flags & (VD_TCP_SYN | VD_TCP_ACK)) != VD_TCP_SYN)
		return vd_verdict_accept();
	source_key(g, pkt, &key);
	now = synguard_now(g, pkt);
	s = slot_get(g, &key, now);
	tat = s->tat > now ? s->tat : now;
	if (tat - now > g->tolerance_ns)
		return vd_verdict_drop();
	s->tat = tat + g->interval_ns;
	return vd_verdict_accept();
}
