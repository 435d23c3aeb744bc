/* kernel_watch.c - read the kernel's queue drops, alarm once, grow (kernel_watch.h). */
#include <stddef.h>

#include "internal.h"
#include "kernel_watch.h"

static void alarm_log(uint16_t num, const struct vd_kernel_watch *w, bool fail_open)
{
	vd_log(VD_LOG_ERROR, "queue %u: ALARM: the kernel lost packets to a full queue: "
	       "queue_dropped=%llu (kernel queue at its length) user_dropped=%llu (socket "
	       "buffer full)%s%llu; growing the queue (said once; the counts go on in the "
	       "stats as kernel_queue_dropped, kernel_user_dropped, fail_open)", num,
	       (unsigned long long)w->queue_dropped, (unsigned long long)w->user_dropped,
	       fail_open ? " fail_open=" : " fail_open(off)=",
	       (unsigned long long)w->fail_open);
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
			alarm_log(num, &w[i], c->fail_open);
		if (act & VD_WATCH_GROW)
			vd_engine_queue_grow(e, i, c->maxlen_max, c->rcvbuf_max);
	}
}
