/*
 * rule_index.h - one match dimension of a rule table, compiled for lookup.
 *
 * Every rule's values in a dimension (ports, address prefixes, protocols,
 * interfaces) are ranges of keys. The index cuts the key space at every range
 * edge into elementary intervals and gives each interval the bitset of rules
 * that match anywhere in it. A lookup is a binary search for the packet's
 * interval: its cost grows with log(rules), and ANDing the dimensions'
 * bitsets leaves the candidate rules in priority order (bit i = rule i).
 * Rules that do not constrain the dimension are set in every bitset, and in
 * `any`, which is what a packet without the field (no ports, no IPv6) gets.
 *
 * Immutable once built; read by any number of threads.
 */
#ifndef VD_RULE_INDEX_H
#define VD_RULE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef unsigned __int128 vd_key;

struct vd_key_range {
	vd_key lo, hi; /* inclusive */
};

/* Build-time description of one rule in one dimension. */
struct vd_dim_rule {
	bool constrained;               /* false: matches every key */
	const struct vd_key_range *ranges;
	size_t nranges;                 /* constrained with 0 ranges: matches no key */
};

struct vd_rule_index {
	size_t words;       /* 64-bit words per bitset */
	size_t nclasses;
	vd_key *starts;     /* first key of each interval, ascending, starts[0] == 0 */
	uint64_t *bits;     /* nclasses bitsets of `words` words */
	uint64_t *none;     /* rules that do not constrain this dimension */
	bool used;          /* some rule constrains it: otherwise skip it entirely */
};

/* Builds the index over nrules rules (rules[i] is rule i). Returns 0, or -1
 * with errno ENOMEM. */
int vd_rule_index_build(struct vd_rule_index *ix, const struct vd_dim_rule *rules, size_t nrules);
void vd_rule_index_free(struct vd_rule_index *ix);

/* The bitset of rules matching key. Hot path: a binary search, no writes. */
static inline const uint64_t *vd_rule_index_lookup(const struct vd_rule_index *ix, vd_key key)
{
	size_t lo = 0, hi = ix->nclasses; /* starts[lo] <= key < starts[hi] */

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->starts[mid] <= key)
			lo = mid;
		else
			hi = mid;
	}
	return ix->bits + lo * ix->words;
}

#endif
