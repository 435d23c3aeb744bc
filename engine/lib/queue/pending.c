/* pending.c - packets answered later, and the answers' mailbox (pending.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pending.h"

int vd_pending_init(struct vd_pending *p, unsigned max)
{
	unsigned size = 16;

	memset(p, 0, sizeof(*p));
	p->wake_fd = -1;
	while (size < 2 * max)
		size *= 2;
	p->mask = size - 1;
	p->max = max;
	p->slots = calloc(size, sizeof(*p->slots));
	p->ring = calloc(max ? max : 1, sizeof(*p->ring));
	if (!p->slots || !p->ring) {
		vd_pending_free(p);
		errno = ENOMEM;
		return -1;
	}
	p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->wake_fd < 0) {
		int saved = errno;
		vd_pending_free(p);
		errno = saved;
		return -1;
	}
	pthread_mutex_init(&p->lock, NULL);
	return 0;
}

void vd_pending_free(struct vd_pending *p)
{
	if (p->wake_fd >= 0) {
		close(p->wake_fd);
		pthread_mutex_destroy(&p->lock);
	}
	free(p->slots);
	free(p->ring);
	p->slots = NULL;
	p->ring = NULL;
	p->wake_fd = -1;
}

/* Ids are sequential: a multiplicative hash spreads neighbours apart. */
static unsigned home(const struct vd_pending *p, uint32_t id)
{
	return (unsigned)((id * 2654435761u) >> 7) & p->mask;
}

int vd_pending_add(struct vd_pending *p, uint32_t id, uint32_t mark)
{
	unsigned i;

	if (p->count >= p->max) {
		errno = ENOSPC;
		return -1;
	}
	for (i = home(p, id); p->slots[i].used; i = (i + 1) & p->mask)
		;
	p->slots[i] = (struct vd_pending_slot){ .id = id, .mark = mark, .used = true };
	p->count++;
	return 0;
}

/* Empties slot i and moves later entries of its cluster back, so that every
 * entry stays reachable from its home slot (Knuth's algorithm R). */
static void slot_clear(struct vd_pending *p, unsigned i)
{
	unsigned j = i;

	p->slots[i].used = false;
	for (;;) {
		unsigned h;

		j = (j + 1) & p->mask;
		if (!p->slots[j].used)
			break;
		h = home(p, p->slots[j].id);
		/* Stays when its home lies cyclically in (i, j]. */
		if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
			continue;
		p->slots[i] = p->slots[j];
		p->slots[j].used = false;
		i = j;
	}
	p->count--;
}

bool vd_pending_remove(struct vd_pending *p, uint32_t id, uint32_t *mark)
{
	for (unsigned i = home(p, id); p->slots[i].used; i = (i + 1) & p->mask) {
		if (p->slots[i].id == id) {
			*mark = p->slots[i].mark;
			slot_clear(p, i);
			return true;
		}
	}
	return false;
}

bool vd_pending_any(struct vd_pending *p, uint32_t *id, uint32_t *mark)
{
	if (p->count == 0)
		return false;
	for (unsigned i = 0; i <= p->mask; i++) {
		if (p->slots[i].used) {
			*id = p->slots[i].id;
			*mark = p->slots[i].mark;
			slot_clear(p, i);
			return true;
		}
	}
	return false;
}

void vd_pending_wake(const struct vd_pending *p)
{
	uint64_t one = 1;

	if (p->wake_fd >= 0 && write(p->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, so the queue wakes anyway. */
	}
}

int vd_pending_post(struct vd_pending *p, uint32_t id, struct vd_verdict v)
{
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	if (p->closed) {
		errno = ESHUTDOWN;
		ret = -1;
	} else if (p->len >= p->max) {
		errno = EAGAIN;
		ret = -1;
	} else {
		p->ring[(p->head + p->len) % p->max] = (struct vd_pending_answer){ id, v };
		p->len++;
	}
	pthread_mutex_unlock(&p->lock);
	if (ret == 0)
		vd_pending_wake(p);
	return ret;
}

unsigned vd_pending_take(struct vd_pending *p, struct vd_pending_answer *out, unsigned n)
{
	unsigned got = 0;

	pthread_mutex_lock(&p->lock);
	while (got < n && p->len > 0) {
		out[got++] = p->ring[p->head];
		p->head = (p->head + 1) % p->max;
		p->len--;
	}
	pthread_mutex_unlock(&p->lock);
	return got;
}

void vd_pending_close(struct vd_pending *p)
{
	pthread_mutex_lock(&p->lock);
	p->closed = true;
	pthread_mutex_unlock(&p->lock);
}
