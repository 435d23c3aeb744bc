/*
 * queue_internal.h - what the engine may set on a queue beyond the public API.
 */
#ifndef VD_QUEUE_INTERNAL_H
#define VD_QUEUE_INTERNAL_H

#include <stdbool.h>

struct vd_queue;

/* Makes vd_queue_run report liburcu QSBR states: quiescent after every batch,
 * offline while blocked in a receive. The calling thread must be registered
 * (rcu_register_thread) before vd_queue_run. */
void vd_queue_set_rcu_qsbr(struct vd_queue *q, bool on);

#endif
