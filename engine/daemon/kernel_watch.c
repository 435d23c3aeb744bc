/* kernel_watch.c - read the kernel's queue drops, alarm once, grow (kernel_watch.h). */
#include <stddef.h>

#include "internal.h"
#include "kernel_watch.h"

/* Kernels with nfnetlink_queue's per-queue id hash (6.18 and later) refuse a
 * packet once a queue has 65,536 in flight, whatever --maxlen says, and count
 * it as queue_dropped. When the drops came with that many in flight, say so:
 * growing the queue cannot help, more queues can. */
#define KERNEL_QUEUE_HASH_MAX 65536u

static void alarm_log(uint16_t num, const struct vd_kernel_watch *w, bool fail_open,
		      uint64_t in_flight)
{
	vd_log(VD_LOG_ERROR, "queue %u: ALARM: the kernel lost packets to a full queue: "
	       "queue_dropped=%llu (kernel queue at its length) user_dropped=%llu (socket "
	       "buffer full)%s%llu; growing the queue (said once; the counts go on in the "
	       "stats as kernel_queue_dropped, kernel_user_dropped, fail_open)", num,
	       (unsigned long long)w->queue_dropped, (unsigned long long)w->user_dropped,
	       fail_open ? " fail_open=" : " fail_open(off)=",
	       (unsigned long long)w->fail_open);
	if (in_flight + 1024 >= KERNEL_QUEUE_HASH_MAX)
		vd_log(VD_LOG_ERROR, "queue %u: %llu packets were in flight at most: this kernel "
		       "may keep no more than %u per queue (nfnetlink_queue's id hash, Linux 6.18 "
		       "and later) whatever --maxlen says; spread held packets over more queues "
		       "(--queue 0-3 with -j NFQUEUE --queue-balance 0:3)", num,
		       (unsigned long long)in_flight, KERNEL_QUEUE_HASH_MAX);
}

void vd_kernel_watch_poll(struct vd_kernel_watch *w, struct vd_engine *e,
			  const struct vd_kernel_watch_config *c)
{
	for (size_t i = 0; i < vd_engine_nqueues(e); i++) {
		struct vd_kernel_queue_stats k;
		struct vd_queue_stats s;
		uint16_t num = vd_engine_stats(e, i, &s);
		unsigned act;

		/* /proc first, the queue's counters after: see vd_kernel_watch_update. */
		if (vd_queue_kernel_stats(num, &k) < 0)
			continue;
		vd_engine_stats(e, i, &s);
		act = vd_kernel_watch_update(&w[i], &k, &s, c->fail_open);
		if (act & VD_WATCH_ALARM)
			alarm_log(num, &w[i], c->fail_open,
				  s.held_max > k.queue_total ? s.held_max : k.queue_total);
		if (act & VD_WATCH_GROW)
			vd_engine_queue_grow(e, i, c->maxlen_max, c->rcvbuf_max);
	}
}
