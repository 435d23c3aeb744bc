/*
 * kernel_watch.h - the kernel's drops of verdictd's queues: read from
 * /proc/net/netfilter/nfnetlink_queue once a second by the main thread
 * (never by a worker), an alarm line the first time they move, and a
 * growth step of the queue length and receive buffer each time they do.
 */
#ifndef VD_KERNEL_WATCH_H
#define VD_KERNEL_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include <verdict/engine.h>

#include "queue_tuning.h"

/* How often the main loop polls. */
#define VD_KERNEL_WATCH_INTERVAL_S 1.0

struct vd_kernel_watch_config {
	bool fail_open;       /* the queues run with VD_QUEUE_F_FAIL_OPEN */
	uint32_t maxlen_max;  /* growth limits, vd_queue_grow's */
	unsigned rcvbuf_max;
};

/* Updates w[i] for every queue worker i of e (w has vd_engine_nqueues(e)
 * entries, zeroed before the first call), logs the alarm, grows the queue.
 * A queue the kernel no longer shows (unbound) is skipped. Main thread. */
void vd_kernel_watch_poll(struct vd_kernel_watch *w, struct vd_engine *e,
			  const struct vd_kernel_watch_config *c);

#endif
