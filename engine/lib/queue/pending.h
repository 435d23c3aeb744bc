/*
 * pending.h - packets a callback answered with VD_VERDICT_PENDING: the set
 * of their ids (the queue's thread only), and the mailbox through which any
 * thread hands in their verdicts (vd_queue_verdict), waking the queue's
 * thread with an eventfd.
 *
 * The set is open addressing with linear probing, deleted by backward shift:
 * fixed size, no allocation after vd_pending_init. The mailbox is a ring
 * under a mutex: answering threads contend for it, the queue's thread takes
 * it only when the eventfd says something came (never per packet).
 *
 * Threading: vd_pending_post from any thread (not a signal handler); every
 * other function on the queue's thread.
 */
#ifndef VD_PENDING_H
#define VD_PENDING_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <verdict/verdict.h>

struct vd_pending_answer {
	uint32_t id;
	struct vd_verdict v;
};

struct vd_pending_slot {
	uint32_t id;
	uint32_t mark;   /* the packet's mark when it arrived */
	bool used;
};

struct vd_pending {
	/* The set. */
	struct vd_pending_slot *slots;
	unsigned mask;        /* slots - 1, a power of two above 2 * max */
	unsigned count, max;
	/* The mailbox. */
	pthread_mutex_t lock;
	struct vd_pending_answer *ring;
	unsigned head, len;   /* under lock */
	bool closed;          /* under lock: the queue stopped taking answers */
	int wake_fd;          /* eventfd */
};

/* Room for max pending packets and max answers in flight. Returns 0 or -1
 * with errno (ENOMEM, or eventfd's). */
int vd_pending_init(struct vd_pending *p, unsigned max);
void vd_pending_free(struct vd_pending *p);

/* Remembers id with its mark. Returns 0, or -1 with errno ENOSPC when max
 * packets are pending. Hot path: no allocation. */
int vd_pending_add(struct vd_pending *p, uint32_t id, uint32_t mark);

/* Forgets id; true (and *mark) when it was pending. */
bool vd_pending_remove(struct vd_pending *p, uint32_t id, uint32_t *mark);

/* Removes some pending id (for answering them all at stop); false when none. */
bool vd_pending_any(struct vd_pending *p, uint32_t *id, uint32_t *mark);

/* Any thread: hands in v for id and wakes the queue. Returns 0, or -1 with
 * errno EAGAIN (mailbox full: try again later) or ESHUTDOWN (closed). */
int vd_pending_post(struct vd_pending *p, uint32_t id, struct vd_verdict v);

/* Takes up to n answers into out; returns how many. */
unsigned vd_pending_take(struct vd_pending *p, struct vd_pending_answer *out, unsigned n);

/* Refuses further posts (answers still in the mailbox can be taken). */
void vd_pending_close(struct vd_pending *p);

/* Wakes the queue's thread. Async-signal-safe. */
void vd_pending_wake(const struct vd_pending *p);

#endif
