/*
 * test_rule_index.c - the compiled index against brute force.
 *
 * Property tests with a fixed seed: (1) the index of one dimension, over
 * random ranges spread across the 128-bit key space (large enough to use the
 * directory), gives exactly the rules whose ranges hold a random key; (2)
 * the same on sets of IPv4 and IPv6 prefixes sized so that the directory's
 * lines hold 2^25, 2^20 and 2^10 keys (IPv6: 2^118), at the keys the lines
 * make awkward (each prefix's first and last address and their neighbours,
 * 0.0.0.0 and 255.255.255.255, /0, /32, adjacent and nested prefixes, line
 * edges), with both kinds of line present; (3) whole rule tables written as
 * rules files (random protocols, port lists and ranges, IPv4 and IPv6
 * prefixes and sets, lengths, rules that leave keys out) give, for random
 * packets, the first rule a linear scan of the file's own values finds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "rule_index.h"
#include "rules_fixture.h"

static uint64_t seed = 0x5eed1234abcdull;

static uint64_t rnd(void) /* xorshift64*: the same cases on every run */
{
	seed ^= seed >> 12;
	seed ^= seed << 25;
	seed ^= seed >> 27;
	return seed * 0x2545f4914f6cdd1dull;
}

static unsigned below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* A key near one of a few clusters, so that ranges overlap and nest. */
static vd_key cluster_key(void)
{
	static const vd_key bases[] = { 0, (vd_key)0xffff << 32, (vd_key)0x20010db8 << 96,
					(vd_key)-1 - 5000 };

	return bases[below(4)] + (below(3) ? below(5000) : rnd());
}

static bool in_ranges(const struct vd_dim_rule *r, vd_key k)
{
	if (!r->constrained)
		return true;
	for (size_t i = 0; i < r->nranges; i++)
		if (k >= r->ranges[i].lo && k <= r->ranges[i].hi)
			return true;
	return false;
}

/* The index's list and its per-rule answers for key, against the ranges. */
static void check_key(const struct vd_rule_index *ix, const struct vd_dim_rule *rules,
		      size_t nrules, vd_key key)
{
	struct vd_rule_list list = vd_rule_index_lookup(ix, key);
	size_t next = 0;

	for (size_t r = 0; r < nrules; r++) {
		bool want = in_ranges(&rules[r], key);

		assert_int_equal(vd_rule_index_matches(ix, r, true, key), want);
		assert_int_equal(vd_rule_index_matches(ix, r, false, key), !rules[r].constrained);
		if (rules[r].constrained && want) { /* listed, in order */
			if (next >= list.n || list.ids[next] != r)
				fail_msg("key %016llx%016llx: rule %zu missing from the index's list",
					 (unsigned long long)(key >> 64), (unsigned long long)key, r);
			next++;
		}
	}
	if (next != list.n)
		fail_msg("key %016llx%016llx: the index lists %zu rules, brute force %zu",
			 (unsigned long long)(key >> 64), (unsigned long long)key, list.n, next);
}

static void check_one_index(size_t nrules)
{
	struct vd_dim_rule *rules = calloc(nrules, sizeof(*rules));
	struct vd_key_range *ranges = calloc(nrules * 4 + 1, sizeof(*ranges));
	struct vd_rule_index ix;
	size_t used = 0;

	assert_non_null(rules);
	assert_non_null(ranges);
	for (size_t r = 0; r < nrules; r++) {
		rules[r].constrained = below(5) != 0;
		rules[r].ranges = ranges + used;
		rules[r].nranges = rules[r].constrained ? below(5) : 0;
		for (size_t k = 0; k < rules[r].nranges; k++) {
			vd_key lo = cluster_key(), span = below(4) ? below(50) : rnd();

			ranges[used++] = (struct vd_key_range){ lo, lo + span < lo ? (vd_key)-1 : lo + span };
		}
	}
	assert_int_equal(vd_rule_index_build(&ix, rules, nrules), 0);
	for (int t = 0; t < 2000; t++)
		check_key(&ix, rules, nrules, t % 7 ? cluster_key() : (t % 2 ? 0 : (vd_key)-1));
	if (nrules > 100)
		assert_non_null(ix.dir); /* the directory is exercised */
	vd_rule_index_free(&ix);
	free(rules);
	free(ranges);
}

static void test_index_against_brute_force(void **state)
{
	(void)state;
	for (int round = 0; round < 40; round++)
		check_one_index(1 + below(round < 20 ? 20 : 600));
}

/* --- the directory's lines, on prefix sets --- */

#define V4 ((vd_key)0xffff << 32) /* ::ffff:0.0.0.0, as the tables key IPv4 */
#define V6_DOC ((vd_key)0x20010db8 << 96)

static struct vd_key_range v4_prefix(uint32_t a, unsigned len)
{
	uint32_t mask = len ? ~0u << (32 - len) : 0;

	return (struct vd_key_range){ V4 | (a & mask), V4 | (a & mask) | ~mask };
}

static struct vd_key_range v6_prefix(vd_key a, unsigned len)
{
	vd_key mask = len ? (vd_key)-1 << (128 - len) : 0;

	return (struct vd_key_range){ a & mask, (a & mask) | ~mask };
}

/* The awkward edges: the first and last addresses, /0 and /32, prefixes
 * adjacent and nested, ending or starting on a /16 edge (a line's edge when
 * lines hold 2^16 keys or fewer) or straddling one. */
static const struct {
	uint32_t a;
	unsigned len;
} v4_edges[] = {
	{ 0, 32 },          { 0xffffffff, 32 }, { 0, 8 },           { 0xff000000, 8 },
	{ 0x0a00ff00, 24 }, { 0x0a010000, 24 }, { 0x0a00ffff, 32 }, { 0x0a010000, 32 },
	{ 0x0a020000, 15 }, { 0x0a03ffff, 32 }, { 0x0a040000, 16 }, { 0x0a048000, 17 },
	{ 0x0a048080, 25 }, { 0x0a048081, 32 }, { 0xc0a80000, 16 }, { 0xc0a90000, 16 },
};

/* Where a set's prefixes are drawn: all of IPv4, 10.0.0.0/8 (short lines
 * over a narrow span), or IPv6. */
enum space { SPACE_V4, SPACE_V4_TEN, SPACE_V6 };

/* Short prefixes are rare (in the edge cases and rule 1): one rule's ranges
 * are merged, and a few /2s would swallow most of a set. */
static struct vd_key_range random_prefix(enum space sp)
{
	if (sp == SPACE_V4)
		return v4_prefix((uint32_t)rnd(), below(16) ? 24 + below(9) : 12 + below(21));
	if (sp == SPACE_V4_TEN)
		return v4_prefix(0x0a000000 | ((uint32_t)rnd() & 0xffffff),
				 below(16) ? 24 + below(9) : 20 + below(13));
	if (below(4))
		return v6_prefix(V6_DOC | ((vd_key)rnd() << 32) | (uint32_t)rnd(), 32 + below(97));
	return v6_prefix(((vd_key)rnd() << 64) | rnd(), 24 + below(105));
}

static vd_key random_address(enum space sp)
{
	if (sp == SPACE_V4_TEN && below(2))
		return V4 | 0x0a000000 | ((uint32_t)rnd() & 0xffffff);
	if (sp != SPACE_V6)
		return V4 | (uint32_t)rnd();
	return below(2) ? V6_DOC | ((vd_key)rnd() << 32) | (uint32_t)rnd() : ((vd_key)rnd() << 64) | rnd();
}

/* A range's edges and their neighbours, against brute force. */
static void check_range_edges(const struct vd_rule_index *ix, const struct vd_dim_rule *rules,
			      size_t nrules, struct vd_key_range r)
{
	check_key(ix, rules, nrules, r.lo);
	check_key(ix, rules, nrules, r.hi);
	check_key(ix, rules, nrules, r.lo - 1);
	check_key(ix, rules, nrules, r.hi + 1);
}

/* Four rules over one address dimension: 0, a set of nset random prefixes
 * (and the edge cases for IPv4); 1, a few prefixes and /0; 2, none (matches
 * every key); 3, forty /32s (/128s) and /30s packed in one /24 (a line
 * with more starts than it holds). Keys: every edge of the small rules, the
 * edges of 2,000 of the set's prefixes, both edges of 600 lines, the ends of
 * the address space and random addresses. Both kinds of line must occur. */
static void check_prefix_set(size_t nset, enum space sp)
{
	bool v6 = sp == SPACE_V6;
	size_t n0 = nset + (v6 ? 0 : sizeof(v4_edges) / sizeof(v4_edges[0])), n1 = 6, n3 = 60;
	struct vd_key_range *ranges = calloc(n0 + n1 + n3, sizeof(*ranges));
	struct vd_key_range *set = ranges, *few = ranges + n0, *packed = few + n1;
	vd_key cluster = v6 ? V6_DOC | 0x50000 : V4 | 0x0a050000;
	struct vd_dim_rule rules[4] = {
		{ true, set, n0 }, { true, few, n1 }, { false, NULL, 0 }, { true, packed, n3 },
	};
	size_t placed = 0, searched = 0;
	struct vd_rule_index ix;

	assert_non_null(ranges);
	for (size_t i = 0; i < nset; i++)
		set[i] = random_prefix(sp);
	for (size_t i = nset; i < n0; i++)
		set[i] = v4_prefix(v4_edges[i - nset].a, v4_edges[i - nset].len);
	for (size_t i = 0; i + 1 < n1; i++)
		few[i] = random_prefix(v6 ? SPACE_V6 : SPACE_V4);
	few[n1 - 1] = v6 ? v6_prefix(0, 0) : v4_prefix(0, 0);
	for (size_t i = 0; i < n3; i++) /* /32s on even addresses, /30s inside them */
		packed[i] = i < 40 ? (struct vd_key_range){ cluster + 2 * i, cluster + 2 * i }
				   : (struct vd_key_range){ cluster + 4 * i, cluster + 4 * i + 3 };
	assert_int_equal(vd_rule_index_build(&ix, rules, 4), 0);
	assert_non_null(ix.dir);
	for (size_t b = 0; b < ix.dir_buckets; b++) {
		placed += !ix.dir[b].search && ix.dir[b].off[0] != 0xffff;
		searched += ix.dir[b].search;
	}
	if (placed == 0 || searched == 0)
		fail_msg("%zu %s prefixes: %zu lines place their starts, %zu search: both kinds wanted",
			 nset, v6 ? "IPv6" : "IPv4", placed, searched);
	for (size_t i = nset; i < n0; i++)
		check_range_edges(&ix, rules, 4, set[i]);
	for (size_t i = 0; i < n1 + n3; i++)
		check_range_edges(&ix, rules, 4, few[i]);
	for (int i = 0; i < 2000; i++)
		check_range_edges(&ix, rules, 4, set[below((unsigned)nset)]);
	for (int i = 0; i < 600; i++) {
		vd_key first = ix.dir_base + ((vd_key)below((unsigned)ix.dir_buckets) << ix.dir_shift);

		check_range_edges(&ix, rules, 4, (struct vd_key_range){ first, first });
	}
	check_range_edges(&ix, rules, 4, v6 ? v6_prefix(0, 0) : v4_prefix(0, 0));
	check_range_edges(&ix, rules, 4, (struct vd_key_range){ 0, (vd_key)-1 });
	for (int i = 0; i < 4000; i++)
		check_key(&ix, rules, 4, random_address(sp));
	vd_rule_index_free(&ix);
	free(ranges);
}

/* Lines of 2^25 and 2^20 IPv4 addresses (sub-keys that drop 9 and 4 bits),
 * of 2^10 in 10.0.0.0/8 (sub-keys exact, as in the set-1m benchmark), and
 * IPv6 lines over the whole key space. */
static void test_prefix_sets_against_brute_force(void **state)
{
	(void)state;
	check_prefix_set(200, SPACE_V4);
	check_prefix_set(8000, SPACE_V4);
	check_prefix_set(40000, SPACE_V4_TEN);
	check_prefix_set(5000, SPACE_V6);
}

/* --- whole tables --- */

#define NPROTO 4
static const char *const proto_names[NPROTO] = { "tcp", "udp", "sctp", "icmp" };
static const uint8_t proto_numbers[NPROTO] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_ICMP };

static size_t put(char *text, size_t cap, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static size_t put(char *text, size_t cap, size_t off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text + off, cap - off, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < cap - off);
	return off + (size_t)n;
}

/* A prefix in the small address space the packets use. */
static size_t put_prefix(char *text, size_t cap, size_t off)
{
	if (below(4))
		return put(text, cap, off, "\"198.18.%u.%u/%u\"", below(4), below(8) * 32, 22 + below(11));
	return put(text, cap, off, "\"2001:db8::%x/%u\"", below(4) << 8, 118 + below(11));
}

static size_t put_ports(char *text, size_t cap, size_t off)
{
	unsigned n = below(3), lo = below(40);

	if (n == 0)
		return put(text, cap, off, "%u", lo);
	if (n == 1)
		return put(text, cap, off, "\"%u-%u\"", lo, lo + below(10));
	return put(text, cap, off, "{ %u, \"%u-%u\" }", lo, lo + 3, lo + 3 + below(6));
}

static char *random_table(size_t nrules)
{
	size_t cap = nrules * 200 + 512, off = 0;
	char *text = malloc(cap);

	assert_non_null(text);
	off = put(text, cap, off, "return { default = \"drop\", sets = { s = {");
	for (int i = 0; i < 3; i++) {
		off = put_prefix(text, cap, off);
		off = put(text, cap, off, ",");
	}
	off = put(text, cap, off, "} }, rules = {\n");
	for (size_t i = 0; i < nrules; i++) {
		off = put(text, cap, off, "{ verdict = \"accept\"");
		if (below(2))
			off = put(text, cap, off, ", proto = \"%s\"", proto_names[below(NPROTO)]);
		if (below(3) == 0) {
			off = put(text, cap, off, ", dport = ");
			off = put_ports(text, cap, off);
		}
		if (below(4) == 0) {
			off = put(text, cap, off, ", sport = ");
			off = put_ports(text, cap, off);
		}
		if (below(3) == 0) {
			off = put(text, cap, off, ", src = ");
			off = below(5) ? put_prefix(text, cap, off) : put(text, cap, off, "\"@s\"");
		}
		if (below(4) == 0) {
			off = put(text, cap, off, ", dst = { ");
			off = put_prefix(text, cap, off);
			off = put(text, cap, off, ", ");
			off = put_prefix(text, cap, off);
			off = put(text, cap, off, " }");
		}
		if (below(10) == 0)
			off = put(text, cap, off, ", len = \"%u-%u\"", 40 + below(40), 80 + below(40));
		off = put(text, cap, off, " },\n");
	}
	put(text, cap, off, "} }\n");
	return text;
}

static vd_key address_key(const struct vd_packet *p, const uint8_t *a)
{
	vd_key k = p->ip_version == 4 ? (vd_key)0xffff : 0;

	for (int i = 0; i < (p->ip_version == 4 ? 4 : 16); i++)
		k = (k << 8) | a[i];
	return k;
}

static bool dim_matches(const struct vd_rule_dim_spec *d, bool has, vd_key key)
{
	if (!d->constrained)
		return true;
	if (!has)
		return false;
	for (size_t i = 0; i < d->nranges; i++)
		if (key >= d->ranges[i].lo && key <= d->ranges[i].hi)
			return true;
	return false;
}

/* First match by a linear scan of the values as the file gave them. */
static int brute_force(const struct vd_ruleset *rs, const struct vd_packet *p)
{
	bool ip = p->ip_version != 0, ports = vd_packet_has_ports(p);

	for (size_t i = 0; i < rs->file.nrules; i++) {
		const struct vd_rule *r = &rs->file.rules[i];

		if (dim_matches(&r->dim[VD_DIM_PROTO], ip, p->l4_proto) &&
		    dim_matches(&r->dim[VD_DIM_SRC], ip, address_key(p, p->src)) &&
		    dim_matches(&r->dim[VD_DIM_DST], ip, address_key(p, p->dst)) &&
		    dim_matches(&r->dim[VD_DIM_SPORT], ports, p->sport) &&
		    dim_matches(&r->dim[VD_DIM_DPORT], ports, p->dport) &&
		    (!(r->checks & VD_CHECK_LEN) || (p->len >= r->len_lo && p->len <= r->len_hi)))
			return (int)i;
	}
	return -1;
}

static struct vd_packet *random_packet(void)
{
	static char src[64], dst[64];
	static uint8_t payload[64];
	int version = below(4) ? 4 : 6;

	if (version == 4) {
		snprintf(src, sizeof(src), "198.18.%u.%u", below(4), below(256));
		snprintf(dst, sizeof(dst), "198.18.%u.%u", below(4), below(256));
	} else {
		snprintf(src, sizeof(src), "2001:db8::%x", below(4 << 8));
		snprintf(dst, sizeof(dst), "2001:db8::%x", below(4 << 8));
	}
	return vt_packet(&(struct vt_packet_spec){ .version = version,
						   .proto = proto_numbers[below(NPROTO)],
						   .src = src, .dst = dst,
						   .sport = (uint16_t)below(50),
						   .dport = (uint16_t)below(50),
						   .icmp_type = 8, .payload = payload,
						   .payload_len = below(60) });
}

static void test_tables_against_brute_force(void **state)
{
	unsigned cases = 0;

	(void)state;
	for (int round = 0; round < 60; round++) {
		char err[512];
		char *text = random_table(1 + below(round < 40 ? 30 : 400));
		struct vd_ruleset *rs = vt_rules_load(text, err, sizeof(err));

		if (!rs)
			fail_msg("round %d: %s", round, err);
		for (int t = 0; t < 500; t++, cases++) {
			struct vd_packet *p = random_packet();
			int rule;
			bool failed;

			vd_ruleset_eval(rs, 0, p, NULL, &rule, &failed);
			if (rule != brute_force(rs, p))
				fail_msg("round %d packet %d: index says rule %d, brute force %d\n%s",
					 round, t, rule, brute_force(rs, p), text);
		}
		vd_ruleset_free(rs);
		free(text);
	}
	assert_int_equal(cases, 30000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_against_brute_force),
		cmocka_unit_test(test_prefix_sets_against_brute_force),
		cmocka_unit_test(test_tables_against_brute_force),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
