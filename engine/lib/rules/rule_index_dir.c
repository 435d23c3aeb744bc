/*
 * rule_index_dir.c - the directory of a big rule index: a cache line per
 * bucket of keys (rule_index.h, struct vd_rule_line), built once the
 * intervals are, and the allocation of the arrays that lookups hit.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "rule_index.h"
#include "rule_index_dir.h"

#define DIR_MIN_INTERVALS 64 /* below this a plain binary search is as fast */
/* A line per four intervals: 16 bytes per interval, what a directory of
 * 8-byte entries, two per interval, took. Starts placed at random overflow
 * a line's VD_RULE_LINE_STARTS in 1 bucket of 20 (a set of random /24 to /32
 * prefixes; the set-1m benchmark's evenly spread set: none), and those
 * buckets search. At most 2M lines (128 MiB, for 8M intervals and more). */
#define DIR_INTERVALS_PER_LINE 4
#define DIR_MAX_BITS 21
#define LINE_PAD 0xffff

#define HUGE_PAGE ((size_t)2 << 20)

/* An array the lookups hit at random, on cache lines: when big, on huge
 * pages where the kernel has them (a TLB miss per lookup otherwise costs as
 * much as the line). Freed with free(). */
void *vd_rule_index_lookup_alloc(size_t bytes)
{
	size_t rounded = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	void *p;

	if (bytes < 2 * HUGE_PAGE)
		return aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	p = aligned_alloc(HUGE_PAGE, rounded);
	if (p)
		madvise(p, rounded, MADV_HUGEPAGE); /* advice: fine if refused */
	return p;
}

/* The interval holding key, from interval `from` on (a linear walk). */
static size_t interval_from(const struct vd_rule_index *ix, size_t from, vd_key key)
{
	while (from + 1 < ix->nintervals && ix->intervals[from + 1].start <= key)
		from++;
	return from;
}

/* Line b of the directory: the interval iv holding its first key, and the
 * starts after it that fall in the bucket, if they fit. */
static void line_fill(struct vd_rule_index *ix, size_t b, size_t iv)
{
	struct vd_rule_line *l = &ix->dir[b];
	size_t k = 0, j = iv + 1;
	vd_key low_bits = ((vd_key)1 << ix->dir_sub_shift) - 1;

	*l = (struct vd_rule_line){ .interval = (uint32_t)iv };
	l->cls[0] = ix->intervals[iv].class;
	/* starts after iv's are past the bucket's first key */
	for (; j < ix->nintervals; j++, k++) {
		vd_key offset = ix->intervals[j].start - ix->dir_base;

		if (offset >> ix->dir_shift != b)
			break;
		if (k == VD_RULE_LINE_STARTS || (offset & low_bits) != 0) {
			l->search = 1;
			return;
		}
		/* past the bucket's first key and aligned: above its sub-key */
		l->off[k] = (uint16_t)((offset >> ix->dir_sub_shift) - 1);
		l->cls[k + 1] = ix->intervals[j].class;
	}
	for (; k < VD_RULE_LINE_STARTS; k++) {
		l->off[k] = LINE_PAD; /* never below a sub-key */
		l->cls[k + 1] = l->cls[k];
	}
}

/* Fills the directory with 2^bits lines over the span of `width` bits from
 * dir_base; *searched: how many of them search. Returns 0, or -1 (ENOMEM). */
static int dir_fill(struct vd_rule_index *ix, unsigned width, unsigned bits, size_t *searched)
{
	size_t iv = 0, n = ix->nintervals;

	free(ix->dir);
	ix->dir_shift = width - bits;
	ix->dir_sub_shift = ix->dir_shift > 16 ? ix->dir_shift - 16 : 0;
	ix->dir_buckets = (size_t)1 << bits;
	ix->dir = vd_rule_index_lookup_alloc((ix->dir_buckets + 1) * sizeof(*ix->dir));
	if (!ix->dir)
		return -1;
	*searched = 0;
	for (size_t b = 0; b < ix->dir_buckets; b++) {
		iv = interval_from(ix, iv, ix->dir_base + ((vd_key)b << ix->dir_shift));
		line_fill(ix, b, iv);
		*searched += ix->dir[b].search;
	}
	/* the line past the last: the interval holding the first key past the
	 * span (the top key if none) */
	if (width < 128 && ix->dir_base + ((vd_key)1 << width) != 0)
		iv = interval_from(ix, iv, ix->dir_base + ((vd_key)1 << width));
	else
		iv = n - 1;
	ix->dir[ix->dir_buckets] = (struct vd_rule_line){ .interval = (uint32_t)iv, .search = 1 };
	return 0;
}

/* The directory: lines over the bits where most starts differ. The span is
 * taken between the 1st and 63rd 64-quantiles of the starts, so that an
 * outlier (the edge past ::ffff:255.255.255.255, say) does not widen every
 * bucket; keys outside the span are searched in the intervals before the
 * first bucket or after the last. Starts bunched in part of the span (1,000
 * ports in a span of 4,096) crowd their lines: then up to four times as many
 * lines, until at most 1 in 16 searches. */
int vd_rule_index_dir_build(struct vd_rule_index *ix)
{
	size_t n = ix->nintervals, searched;
	vd_key lo, hi, diff;
	unsigned width = 0, bits = 0, most;

	if (n < DIR_MIN_INTERVALS)
		return 0;
	lo = ix->intervals[n / 64 ? n / 64 : 1].start;
	hi = ix->intervals[n - 1 - n / 64].start;
	diff = lo ^ hi;
	while (width < 128 && (diff >> width) != 0)
		width++;
	while (bits < DIR_MAX_BITS && ((size_t)DIR_INTERVALS_PER_LINE << bits) < n)
		bits++;
	most = bits + 2 < DIR_MAX_BITS ? bits + 2 : DIR_MAX_BITS;
	most = most < width ? most : width;
	bits = bits < most ? bits : most;
	ix->dir_base = width == 128 ? 0 : lo & ~(((vd_key)1 << width) - 1);
	for (;; bits++) {
		if (dir_fill(ix, width, bits, &searched) < 0)
			return -1;
		if (bits == most || searched * 16 <= ix->dir_buckets)
			return 0;
	}
}
