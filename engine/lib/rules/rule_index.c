/* rule_index.c - build the interval/bitset index of one match dimension. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rule_index.h"

static int key_cmp(const void *a, const void *b)
{
	vd_key x = *(const vd_key *)a, y = *(const vd_key *)b;

	return x < y ? -1 : x > y;
}

/* Interval edges: 0, every lo, and every hi + 1 (unless hi is the top key). */
static size_t collect_edges(const struct vd_dim_rule *rules, size_t nrules, vd_key *edges)
{
	size_t n = 0;

	edges[n++] = 0;
	for (size_t r = 0; r < nrules; r++) {
		if (!rules[r].constrained)
			continue;
		for (size_t k = 0; k < rules[r].nranges; k++) {
			edges[n++] = rules[r].ranges[k].lo;
			if (rules[r].ranges[k].hi != (vd_key)-1)
				edges[n++] = rules[r].ranges[k].hi + 1;
		}
	}
	qsort(edges, n, sizeof(*edges), key_cmp);
	size_t u = 1;
	for (size_t i = 1; i < n; i++)
		if (edges[i] != edges[u - 1])
			edges[u++] = edges[i];
	return u;
}

static size_t class_of(const struct vd_rule_index *ix, vd_key key)
{
	return (size_t)(vd_rule_index_lookup(ix, key) - ix->bits) / ix->words;
}

static void set_bit(uint64_t *set, size_t bit)
{
	set[bit / 64] |= 1ull << (bit % 64);
}

static void mark_rule(struct vd_rule_index *ix, const struct vd_dim_rule *rule, size_t r)
{
	if (!rule->constrained) {
		set_bit(ix->none, r);
		for (size_t c = 0; c < ix->nclasses; c++)
			set_bit(ix->bits + c * ix->words, r);
		return;
	}
	for (size_t k = 0; k < rule->nranges; k++) {
		size_t first = class_of(ix, rule->ranges[k].lo);
		size_t last = class_of(ix, rule->ranges[k].hi);

		for (size_t c = first; c <= last; c++)
			set_bit(ix->bits + c * ix->words, r);
	}
	ix->used = true;
}

int vd_rule_index_build(struct vd_rule_index *ix, const struct vd_dim_rule *rules, size_t nrules)
{
	size_t nedges = 1;

	memset(ix, 0, sizeof(*ix));
	for (size_t r = 0; r < nrules; r++)
		if (rules[r].constrained)
			nedges += 2 * rules[r].nranges;
	ix->words = (nrules + 63) / 64 ? (nrules + 63) / 64 : 1;
	ix->starts = malloc(nedges * sizeof(*ix->starts));
	if (!ix->starts)
		goto nomem;
	ix->nclasses = collect_edges(rules, nrules, ix->starts);
	ix->bits = calloc(ix->nclasses * ix->words, sizeof(uint64_t));
	ix->none = calloc(ix->words, sizeof(uint64_t));
	if (!ix->bits || !ix->none)
		goto nomem;
	for (size_t r = 0; r < nrules; r++)
		mark_rule(ix, &rules[r], r);
	return 0;
nomem:
	vd_rule_index_free(ix);
	errno = ENOMEM;
	return -1;
}

void vd_rule_index_free(struct vd_rule_index *ix)
{
	free(ix->starts);
	free(ix->bits);
	free(ix->none);
	memset(ix, 0, sizeof(*ix));
}
