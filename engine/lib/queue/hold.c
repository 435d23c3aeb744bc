/* hold.c - verdicts held until their release time (hold.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hold.h"

/* The ring's first size, a power of two. */
#define VD_HOLD_FIFO_START 64u

int vd_hold_init(struct vd_hold *h, unsigned max, unsigned ncopies, uint32_t copy_size)
{
	memset(h, 0, sizeof(*h));
	h->max = max;
	h->ncopies = ncopies;
	h->copy_size = copy_size;
	/* calloc'ed: only the pages ever used become resident. The ring
	 * starts small and doubles up to a power of two of at least max. */
	h->fifo_mask = VD_HOLD_FIFO_START - 1;
	while (h->fifo_mask < max - 1 && max > 0)
		h->fifo_mask = 2 * h->fifo_mask + 1;
	h->fifo = calloc((size_t)h->fifo_mask + 1, sizeof(*h->fifo));
	h->fifo_mask = VD_HOLD_FIFO_START - 1;
	h->heap = calloc(max ? max : 1, sizeof(*h->heap));
	if (ncopies) {
		h->copies = malloc((size_t)ncopies * copy_size);
		h->free_copies = calloc(ncopies, sizeof(*h->free_copies));
		h->sent_copies = calloc(ncopies, sizeof(*h->sent_copies));
	}
	if (!h->fifo || !h->heap || (ncopies && (!h->copies || !h->free_copies || !h->sent_copies))) {
		vd_hold_free(h);
		errno = ENOMEM;
		return -1;
	}
	for (unsigned i = 0; i < ncopies; i++)
		h->free_copies[i] = (int32_t)(ncopies - 1 - i);
	h->nfree = ncopies;
	return 0;
}

void vd_hold_free(struct vd_hold *h)
{
	free(h->fifo);
	free(h->heap);
	free(h->copies);
	free(h->free_copies);
	free(h->sent_copies);
	h->fifo = h->heap = NULL;
	h->copies = NULL;
	h->free_copies = h->sent_copies = NULL;
	h->fifo_head = h->fifo_len = h->nheap = 0;
	h->count = h->max = h->ncopies = h->nfree = h->nsent = 0;
}

static bool earlier(const struct vd_hold_entry *a, const struct vd_hold_entry *b)
{
	return a->release_ns < b->release_ns ||
	       (a->release_ns == b->release_ns && a->seq < b->seq);
}

static void sift_up(struct vd_hold *h, unsigned i)
{
	struct vd_hold_entry e = h->heap[i];

	while (i > 0) {
		unsigned parent = (i - 1) / 2;

		if (!earlier(&e, &h->heap[parent]))
			break;
		h->heap[i] = h->heap[parent];
		i = parent;
	}
	h->heap[i] = e;
}

static void sift_down(struct vd_hold *h, unsigned i)
{
	struct vd_hold_entry e = h->heap[i];

	for (;;) {
		unsigned child = 2 * i + 1;

		if (child >= h->nheap)
			break;
		if (child + 1 < h->nheap && earlier(&h->heap[child + 1], &h->heap[child]))
			child++;
		if (!earlier(&h->heap[child], &e))
			break;
		h->heap[i] = h->heap[child];
		i = child;
	}
	h->heap[i] = e;
}

/* Ids as the kernel compares them (nfq_id_after): modulo 2^32. */
static bool id_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static struct vd_hold_entry *fifo_at(const struct vd_hold *h, unsigned i)
{
	return &h->fifo[(h->fifo_head + i) & h->fifo_mask];
}

/* Doubles the ring in place when it is full: its wrapped part moves up
 * behind the rest. The ring walks only as much memory as was held at once
 * (twice at most), so it stays in the cache like the heap's front does. */
static void fifo_grow(struct vd_hold *h)
{
	unsigned size = h->fifo_mask + 1;

	memcpy(h->fifo + size, h->fifo, (size_t)h->fifo_head * sizeof(*h->fifo));
	h->fifo_mask = 2 * size - 1;
}

/* Where a new hold goes: the ring's tail when it keeps the ring in release
 * and id order, else the heap's end (sifted up by the caller). */
static struct vd_hold_entry *slot_for(struct vd_hold *h, uint64_t release_ns, uint32_t id,
				      bool *to_heap)
{
	const struct vd_hold_entry *tail = h->fifo_len ? fifo_at(h, h->fifo_len - 1) : NULL;

	*to_heap = tail && (release_ns < tail->release_ns || !id_after(id, tail->id));
	if (*to_heap)
		return &h->heap[h->nheap++];
	if (h->fifo_len > h->fifo_mask)
		fifo_grow(h);
	return fifo_at(h, h->fifo_len++);
}

int vd_hold_add(struct vd_hold *h, uint64_t release_ns, uint32_t id,
		const struct vd_wire_verdict *w, const uint8_t *payload, uint32_t len)
{
	struct vd_hold_entry *e;
	int32_t copy = -1;
	bool to_heap;

	if (len > h->copy_size) {
		errno = EMSGSIZE;
		return -1;
	}
	if (h->count >= h->max || (len > 0 && h->nfree == 0)) {
		errno = ENOSPC;
		return -1;
	}
	if (len > 0) {
		copy = h->free_copies[--h->nfree];
		memcpy(h->copies + (size_t)copy * h->copy_size, payload, len);
	}
	e = slot_for(h, release_ns, id, &to_heap);
	*e = (struct vd_hold_entry){ .release_ns = release_ns, .seq = h->seq++, .id = id,
				     .copy = copy, .copy_len = len, .wire = *w };
	if (to_heap)
		sift_up(h, h->nheap - 1);
	if (++h->count > h->held_max)
		h->held_max = h->count;
	return 0;
}

/* The earliest hold: the ring's head or the heap's root; NULL when none. */
static const struct vd_hold_entry *earliest(const struct vd_hold *h)
{
	const struct vd_hold_entry *f = h->fifo_len ? &h->fifo[h->fifo_head] : NULL;

	if (h->nheap && (!f || earlier(&h->heap[0], f)))
		return &h->heap[0];
	return f;
}

bool vd_hold_next(const struct vd_hold *h, uint64_t *release_ns)
{
	const struct vd_hold_entry *e = earliest(h);

	if (!e)
		return false;
	*release_ns = e->release_ns;
	return true;
}

bool vd_hold_pop(struct vd_hold *h, uint64_t now_ns, struct vd_hold_entry *out,
		 const uint8_t **payload)
{
	const struct vd_hold_entry *e = earliest(h);

	if (!e || e->release_ns > now_ns)
		return false;
	*out = *e;
	if (e == &h->heap[0] && h->nheap) {
		h->heap[0] = h->heap[--h->nheap];
		if (h->nheap > 0)
			sift_down(h, 0);
	} else {
		/* Empty, it starts over at the front: the pages in use stay few. */
		h->fifo_head = --h->fifo_len ? (h->fifo_head + 1) & h->fifo_mask : 0;
	}
	h->count--;
	*payload = NULL;
	if (out->copy >= 0) {
		*payload = h->copies + (size_t)out->copy * h->copy_size;
		h->sent_copies[h->nsent++] = out->copy;
	}
	h->released++;
	return true;
}

bool vd_hold_all_above(const struct vd_hold *h, uint32_t id)
{
	return h->nheap == 0 && (h->fifo_len == 0 || id_after(h->fifo[h->fifo_head].id, id));
}

void vd_hold_recycle(struct vd_hold *h)
{
	while (h->nsent > 0)
		h->free_copies[h->nfree++] = h->sent_copies[--h->nsent];
}

static unsigned bucket_of(uint64_t ns)
{
	unsigned e;

	if (ns < 16)
		return (unsigned)ns;
	e = 63u - (unsigned)__builtin_clzll(ns); /* 4..63 */
	return 16 + (e - 4) * 8 + (unsigned)((ns >> (e - 3)) & 7);
}

/* The largest value bucket b holds. */
static uint64_t bucket_top(unsigned b)
{
	unsigned e, sub;

	if (b < 16)
		return b;
	e = (b - 16) / 8 + 4;
	sub = (b - 16) % 8;
	return ((uint64_t)(8 + sub + 1) << (e - 3)) - 1;
}

void vd_hold_record(struct vd_hold *h, uint64_t error_ns)
{
	h->hist[bucket_of(error_ns)]++;
	h->hist_count++;
	if (error_ns > h->error_max_ns)
		h->error_max_ns = error_ns;
}

uint64_t vd_hold_percentile(const struct vd_hold *h, unsigned per_mille)
{
	/* The rank of the wanted value, 1-based, rounded up. */
	uint64_t rank = (h->hist_count * per_mille + 999) / 1000, seen = 0;

	if (h->hist_count == 0)
		return 0;
	if (rank == 0)
		rank = 1;
	for (unsigned b = 0; b < VD_HOLD_HIST_BUCKETS; b++) {
		seen += h->hist[b];
		if (seen >= rank) {
			uint64_t top = bucket_top(b);
			return top < h->error_max_ns ? top : h->error_max_ns;
		}
	}
	return h->error_max_ns;
}
