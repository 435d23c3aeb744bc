/*
 * test_rule_index.c - the compiled index against brute force.
 *
 * Property tests with a fixed seed: (1) the index of one dimension, over
 * random ranges spread across the 128-bit key space (large enough to use the
 * directory), gives exactly the rules whose ranges hold a random key; (2)
 * whole rule tables written as rules files (random protocols, port lists and
 * ranges, IPv4 and IPv6 prefixes and sets, lengths, rules that leave keys
 * out) give, for random packets, the first rule a linear scan of the file's
 * own values finds.
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
	for (int t = 0; t < 2000; t++) {
		vd_key key = t % 7 ? cluster_key() : (t % 2 ? 0 : (vd_key)-1);
		struct vd_rule_list list = vd_rule_index_lookup(&ix, key);
		size_t next = 0;

		for (size_t r = 0; r < nrules; r++) {
			bool want = in_ranges(&rules[r], key);

			assert_int_equal(vd_rule_index_matches(&ix, r, true, key), want);
			assert_int_equal(vd_rule_index_matches(&ix, r, false, key), !rules[r].constrained);
			if (rules[r].constrained && want) { /* listed, in order */
				assert_true(next < list.n);
				assert_int_equal(list.ids[next++], r);
			}
		}
		assert_int_equal(next, list.n);
	}
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
		cmocka_unit_test(test_tables_against_brute_force),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
