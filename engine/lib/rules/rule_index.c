/*
 * rule_index.c - build the interval/class index of one match dimension.
 *
 * A sweep over the sorted range edges keeps the set of rules active at each
 * point; each interval's set is interned as a class (a hash of the sorted
 * list). The cost is O(E log E) for E edges plus the size of the active sets
 * swept, which is linear for rules with distinct values (ports, addresses,
 * one big set); only rules whose ranges nest deeply make it grow faster.
 * The directory over the intervals is rule_index_dir.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rule_index.h"
#include "rule_index_dir.h"

struct edge {
	vd_key key;
	uint32_t rule;
	bool add;
};

/* A growable array of uint32_t. */
struct u32s {
	uint32_t *v;
	size_t n, cap;
};

static int u32s_push(struct u32s *a, uint32_t x)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		uint32_t *v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return -1;
		a->v = v, a->cap = cap;
	}
	a->v[a->n++] = x;
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct vd_key_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int edge_cmp(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

/* Copies every constraining rule's ranges, sorted and merged (adjacent ones
 * too), into ix->ranges; marks the others in none/none_bits. */
static int copy_ranges(struct vd_rule_index *ix, const struct vd_dim_rule *rules, size_t nrules)
{
	size_t total = 0, n = 0, nn = 0;

	for (size_t r = 0; r < nrules; r++)
		total += rules[r].constrained ? rules[r].nranges : 0;
	if (total >= UINT32_MAX)
		return errno = EOVERFLOW, -1;
	ix->ranges = malloc((total ? total : 1) * sizeof(*ix->ranges));
	ix->rule_first = malloc((nrules + 1) * sizeof(*ix->rule_first));
	ix->none = malloc((nrules ? nrules : 1) * sizeof(*ix->none));
	ix->none_bits = calloc(nrules / 64 + 1, sizeof(uint64_t));
	if (!ix->ranges || !ix->rule_first || !ix->none || !ix->none_bits)
		return errno = ENOMEM, -1;
	for (size_t r = 0; r < nrules; r++) {
		struct vd_key_range *mine = ix->ranges + n;
		size_t k = 0;

		ix->rule_first[r] = (uint32_t)n;
		if (!rules[r].constrained) {
			ix->none[nn++] = (uint32_t)r;
			ix->none_bits[r / 64] |= 1ull << (r % 64);
			continue;
		}
		ix->used = true;
		memcpy(mine, rules[r].ranges, rules[r].nranges * sizeof(*mine));
		qsort(mine, rules[r].nranges, sizeof(*mine), range_cmp);
		for (size_t i = 0; i < rules[r].nranges; i++) {
			if (k && (mine[k - 1].hi == (vd_key)-1 || mine[i].lo <= mine[k - 1].hi + 1)) {
				if (mine[i].hi > mine[k - 1].hi)
					mine[k - 1].hi = mine[i].hi;
			} else {
				mine[k++] = mine[i];
			}
		}
		n += k;
	}
	ix->rule_first[nrules] = (uint32_t)n;
	ix->nnone = nn;
	return 0;
}

/* Interning of rule lists as classes. */
struct classes {
	struct vd_rule_index *ix;
	struct u32s first, rules;
	uint32_t *slots;  /* open addressing: class + 1, 0 empty */
	uint64_t *hashes; /* per class */
	size_t nslots, hcap;
};

static uint64_t list_hash(const uint32_t *v, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;

	for (size_t i = 0; i < n; i++)
		h = (h ^ v[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static bool class_equal(const struct classes *cl, uint32_t c, const uint32_t *v, size_t n)
{
	size_t a = cl->first.v[c], b = cl->first.v[c + 1];

	/* n == 0: no memcmp, whose pointers may then be NULL (undefined even
	 * for zero bytes). */
	return b - a == n && (n == 0 || memcmp(cl->rules.v + a, v, n * sizeof(*v)) == 0);
}

static int classes_grow(struct classes *cl)
{
	size_t nslots = cl->nslots ? cl->nslots * 2 : 1024;
	uint32_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t c = 0; c + 1 < cl->first.n; c++) {
		size_t s = cl->hashes[c] & (nslots - 1);

		while (slots[s])
			s = (s + 1) & (nslots - 1);
		slots[s] = (uint32_t)c + 1;
	}
	free(cl->slots);
	cl->slots = slots, cl->nslots = nslots;
	return 0;
}

/* The class of the sorted list v[0..n), made when new; -1 on ENOMEM. */
static int64_t class_intern(struct classes *cl, const uint32_t *v, size_t n)
{
	uint64_t h = list_hash(v, n);
	size_t nclasses = cl->first.n - 1, s;

	if (2 * (nclasses + 1) > cl->nslots && classes_grow(cl) < 0)
		return -1;
	for (s = h & (cl->nslots - 1); cl->slots[s]; s = (s + 1) & (cl->nslots - 1))
		if (cl->hashes[cl->slots[s] - 1] == h && class_equal(cl, cl->slots[s] - 1, v, n))
			return cl->slots[s] - 1;
	if (nclasses == cl->hcap) {
		size_t cap = cl->hcap ? cl->hcap * 2 : 256;
		uint64_t *hs = realloc(cl->hashes, cap * sizeof(*hs));

		if (!hs)
			return -1;
		cl->hashes = hs, cl->hcap = cap;
	}
	for (size_t i = 0; i < n; i++)
		if (u32s_push(&cl->rules, v[i]) < 0)
			return -1;
	if (u32s_push(&cl->first, (uint32_t)cl->rules.n) < 0)
		return -1;
	cl->hashes[nclasses] = h;
	cl->slots[s] = (uint32_t)nclasses + 1;
	return (int64_t)nclasses;
}

/* Adds or removes rule in the sorted active list. */
static void active_apply(struct u32s *active, uint32_t rule, bool add)
{
	size_t lo = 0, hi = active->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (active->v[mid] < rule)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (add) {
		memmove(active->v + lo + 1, active->v + lo, (active->n - lo) * sizeof(uint32_t));
		active->v[lo] = rule;
		active->n++;
	} else {
		memmove(active->v + lo, active->v + lo + 1, (active->n - lo - 1) * sizeof(uint32_t));
		active->n--;
	}
}

/* The edges of every merged range: add at lo, remove at hi + 1. */
static struct edge *collect_edges(const struct vd_rule_index *ix, size_t *nedges)
{
	size_t nranges = ix->rule_first[ix->nrules], n = 0;
	struct edge *e = malloc((2 * nranges + 1) * sizeof(*e));

	if (!e)
		return NULL;
	for (size_t r = 0; r < ix->nrules; r++)
		for (size_t k = ix->rule_first[r]; k < ix->rule_first[r + 1]; k++) {
			e[n++] = (struct edge){ ix->ranges[k].lo, (uint32_t)r, true };
			if (ix->ranges[k].hi != (vd_key)-1)
				e[n++] = (struct edge){ ix->ranges[k].hi + 1, (uint32_t)r, false };
		}
	qsort(e, n, sizeof(*e), edge_cmp);
	*nedges = n;
	return e;
}

/* The sweep: one interval per distinct edge key whose active set differs
 * from the previous interval's. */
static int sweep(struct vd_rule_index *ix, struct classes *cl)
{
	size_t nedges = 0, i = 0, cap;
	struct edge *e = collect_edges(ix, &nedges);
	struct u32s active = { malloc((ix->nrules + 1) * sizeof(uint32_t)), 0, ix->nrules + 1 };
	int64_t prev = -1;
	int ret = -1;

	cap = nedges + 1;
	ix->intervals = vd_rule_index_lookup_alloc(cap * sizeof(*ix->intervals));
	if (!e || !active.v || !ix->intervals)
		goto out;
	while (i < nedges || ix->nintervals == 0) {
		vd_key key = i < nedges && ix->nintervals ? e[i].key : 0;
		int64_t c;

		for (; i < nedges && e[i].key == key; i++)
			active_apply(&active, e[i].rule, e[i].add);
		c = class_intern(cl, active.v, active.n);
		if (c < 0)
			goto out;
		if (c != prev) {
			ix->intervals[ix->nintervals++] = (struct vd_rule_interval){ key, (uint32_t)c };
			prev = c;
		}
	}
	ret = 0;
out:
	free(e);
	free(active.v);
	return ret;
}

/* Small tables: each class as one word, so that evaluation ANDs a word per
 * dimension instead of walking lists (what a 10-rule table costs most). */
static int build_masks(struct vd_rule_index *ix)
{
	if (ix->nrules > VD_RULE_INDEX_MASK_RULES)
		return 0;
	ix->class_mask = malloc((ix->nclasses ? ix->nclasses : 1) * sizeof(uint64_t));
	if (!ix->class_mask)
		return -1;
	for (size_t c = 0; c < ix->nclasses; c++) {
		uint64_t m = ix->none_bits[0];

		for (uint32_t k = ix->class_first[c]; k < ix->class_first[c + 1]; k++)
			m |= 1ull << ix->class_rules[k];
		ix->class_mask[c] = m;
	}
	return 0;
}

int vd_rule_index_build(struct vd_rule_index *ix, const struct vd_dim_rule *rules, size_t nrules)
{
	struct classes cl = { .ix = ix };

	memset(ix, 0, sizeof(*ix));
	ix->nrules = nrules;
	if (nrules >= UINT32_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	if (copy_ranges(ix, rules, nrules) < 0)
		goto fail;
	errno = ENOMEM;
	if (u32s_push(&cl.first, 0) < 0 || sweep(ix, &cl) < 0 || vd_rule_index_dir_build(ix) < 0)
		goto fail;
	ix->nclasses = cl.first.n - 1;
	ix->class_first = cl.first.v;
	ix->class_rules = cl.rules.v ? cl.rules.v : malloc(sizeof(uint32_t));
	free(cl.slots);
	free(cl.hashes);
	if (!ix->class_rules || build_masks(ix) < 0)
		goto fail_built;
	return 0;
fail:
	free(cl.first.v);
	free(cl.rules.v);
	free(cl.slots);
	free(cl.hashes);
fail_built:
	vd_rule_index_free(ix);
	errno = errno ? errno : ENOMEM;
	return -1;
}

void vd_rule_index_free(struct vd_rule_index *ix)
{
	free(ix->intervals);
	free(ix->dir);
	free(ix->class_first);
	free(ix->class_rules);
	free(ix->none);
	free(ix->none_bits);
	free(ix->rule_first);
	free(ix->ranges);
	free(ix->class_mask);
	memset(ix, 0, sizeof(*ix));
}
