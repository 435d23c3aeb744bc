/*
 * nflog_internal.h - what the daemon needs of a log group beyond the public
 * API (verdict/nflog.h).
 */
#ifndef VD_NFLOG_INTERNAL_H
#define VD_NFLOG_INTERNAL_H

#include <stdbool.h>

#include <verdict/nflog.h>

/* Makes vd_nflog_run report liburcu QSBR states, as queues do (see
 * queue_internal.h): quiescent after every batch, offline in recv. The
 * running thread must be registered with liburcu-qsbr. */
void vd_nflog_set_rcu_qsbr(struct vd_nflog *g, bool on);

#endif
