/*
 * rule_index.h - one match dimension of a rule table, compiled for lookup.
 *
 * Every rule's values in a dimension (ports, address prefixes, protocols,
 * interfaces) are ranges of keys. The index cuts the key space at every range
 * edge into intervals (adjacent ones with the same rules merged) and gives
 * each interval a class: the sorted list of the rules that constrain this
 * dimension and match anywhere in it. Identical lists are stored once, so a
 * table whose rules have distinct values costs memory in proportion to its
 * size, not its square. Rules that do not constrain the dimension are kept
 * apart, in one shared list (`none`) and a bitset, instead of in every class.
 *
 * A lookup is a jump through a directory of the keys' leading bits (big
 * indexes only) to one cache line that holds the bucket's few interval starts
 * and their classes: one cache miss even for a set of a million prefixes
 * (a crowded bucket falls back to a binary search of its intervals). Each rule's own ranges are kept sorted and
 * merged, so the evaluation can also ask "does rule i match key k" directly
 * (vd_rule_index_matches) while it walks another dimension's candidates.
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

/* An interval: its first key and its class, side by side so that the
 * search's last step and the class share a cache line. */
struct vd_rule_interval {
	vd_key start;
	uint32_t class;
};

/* A directory line: one cache line per bucket of keys, so that most lookups
 * cost one miss. A key's sub-key is the 16 bits of its offset from dir_base
 * that end just below the bucket's own bits (in a bucket of fewer than 2^16
 * keys, the lowest 16 bits: the bucket bits among them are the same for all
 * its keys, so they order nothing). off[] holds the sub-keys of the interval
 * starts in the bucket past its first key, minus one (such a sub-key is at
 * least 1), ascending, padded with 0xffff; cls[k] is the class from the k-th
 * of them on, cls[0] the class of the bucket's first key. A bucket with more
 * starts than off[] holds, or a start its sub-key does not place exactly
 * (bits set below them), has `search` set: its key is searched in the
 * intervals from `interval` (the one holding the bucket's first key) to the
 * next line's. */
#define VD_RULE_LINE_STARTS 8

struct vd_rule_line {
	uint32_t interval;
	uint16_t search;
	uint16_t reserved;
	uint16_t off[VD_RULE_LINE_STARTS];
	uint32_t cls[VD_RULE_LINE_STARTS + 1];
} __attribute__((aligned(64)));

/* A sorted list of rule indexes. */
struct vd_rule_list {
	const uint32_t *ids;
	size_t n;
};

struct vd_rule_index {
	bool used;                /* some rule constrains it: otherwise skip it entirely */
	size_t nrules;
	/* intervals: starts ascending, intervals[0].start == 0 */
	size_t nintervals;
	struct vd_rule_interval *intervals;
	/* directory over the keys' leading bits past their common prefix:
	 * bucket b is line b (its intervals: from dir[b].interval to
	 * dir[b + 1].interval), keys below dir_base are in the intervals up to
	 * dir[0].interval, keys past the last bucket from dir[dir_buckets].interval
	 * on; NULL when small */
	struct vd_rule_line *dir;
	size_t dir_buckets;
	vd_key dir_base;
	unsigned dir_shift;
	unsigned dir_sub_shift; /* a key's sub-key: (uint16_t)((key - dir_base) >> dir_sub_shift) */
	/* classes: rule lists class_first[c]..class_first[c + 1] of class_rules */
	size_t nclasses;
	uint32_t *class_first;
	uint32_t *class_rules;
	/* rules that do not constrain this dimension: a list and a bitset */
	uint32_t *none;
	size_t nnone;
	uint64_t *none_bits;
	/* each rule's ranges, sorted and merged: rule_first[i]..rule_first[i + 1] */
	uint32_t *rule_first;
	struct vd_key_range *ranges;
	/* tables of at most VD_RULE_INDEX_MASK_RULES rules: per class, the bit
	 * mask of the rules that match there, those that do not constrain the
	 * dimension included (NULL for larger tables) */
	uint64_t *class_mask;
};

#define VD_RULE_INDEX_MASK_RULES 64

/* Builds the index over nrules rules (rules[i] is rule i; fewer than 2^32).
 * Returns 0, or -1 with errno ENOMEM (or EOVERFLOW for too many ranges). */
int vd_rule_index_build(struct vd_rule_index *ix, const struct vd_dim_rule *rules, size_t nrules);
void vd_rule_index_free(struct vd_rule_index *ix);

/* The class of key: the index of its list of constraining rules. Hot
 * path: no writes, no lock. */
static inline uint32_t vd_rule_index_class(const struct vd_rule_index *ix, vd_key key)
{
	size_t lo = 0, hi = ix->nintervals; /* start of lo <= key < start of hi */

	if (ix->dir) {
		vd_key offset = key - ix->dir_base, bucket = offset >> ix->dir_shift;

		if (key < ix->dir_base) {
			hi = (size_t)ix->dir[0].interval + 1;
		} else if (bucket >= ix->dir_buckets) {
			lo = ix->dir[ix->dir_buckets].interval;
		} else {
			const struct vd_rule_line *l = &ix->dir[(size_t)bucket];
			uint16_t sub = (uint16_t)(offset >> ix->dir_sub_shift);
			unsigned k = 0;

			if (!l->search) { /* the line's own cache line: no branch per start */
				for (int i = 0; i < VD_RULE_LINE_STARTS; i++)
					k += l->off[i] < sub;
				return l->cls[k];
			}
			lo = l->interval;
			hi = (size_t)l[1].interval + 1;
		}
	}
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix->intervals[mid].start <= key)
			lo = mid;
		else
			hi = mid;
	}
	return ix->intervals[lo].class;
}

/* The constraining rules that match key. Hot path: no writes, no lock. */
static inline struct vd_rule_list vd_rule_index_lookup(const struct vd_rule_index *ix, vd_key key)
{
	uint32_t c = vd_rule_index_class(ix, key);

	return (struct vd_rule_list){ ix->class_rules + ix->class_first[c],
				      ix->class_first[c + 1] - ix->class_first[c] };
}

static inline bool vd_rule_index_unconstrained(const struct vd_rule_index *ix, size_t rule)
{
	return (ix->none_bits[rule / 64] >> (rule % 64)) & 1;
}

/* Whether rule matches key in this dimension (has: the packet has the
 * field; a packet without it matches only the rules that do not constrain
 * it). Hot path: no writes. */
static inline bool vd_rule_index_matches(const struct vd_rule_index *ix, size_t rule, bool has,
					 vd_key key)
{
	size_t lo, hi;

	if (vd_rule_index_unconstrained(ix, rule))
		return true;
	if (!has)
		return false;
	lo = ix->rule_first[rule];
	hi = ix->rule_first[rule + 1];
	while (hi - lo > 4) { /* ranges[lo..hi) sorted and disjoint */
		size_t mid = lo + (hi - lo) / 2;

		if (ix->ranges[mid].lo <= key)
			lo = mid;
		else
			hi = mid;
	}
	for (; lo < hi; lo++)
		if (key >= ix->ranges[lo].lo && key <= ix->ranges[lo].hi)
			return true;
	return false;
}

#endif
