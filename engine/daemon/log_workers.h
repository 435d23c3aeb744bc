/*
 * log_workers.h - what the daemon's NFLOG group workers do: the engine runs
 * one worker per --nflog group (verdict/engine.h); this file gives each its
 * state and its callbacks, which filter a logged packet through the rules
 * file's `logs` list and write it to the log sink.
 */
#ifndef VD_LOG_WORKERS_H
#define VD_LOG_WORKERS_H

#include <stdio.h>

#include <verdict/engine.h>
#include <verdict/rules.h>

#include "log_sink.h"

/* What the group template's callbacks need; lives as long as the engine. */
struct vd_log_workers_context {
	struct vd_rules *rules;    /* NULL without --rules */
	struct vd_log_sink *sink;  /* NULL without outputs */
};

/* The state of group worker i (log worker i of the rules), for the engine's
 * group_init; NULL on no memory. Freed by vd_log_worker_free (group_fini). */
struct vd_log_worker *vd_log_worker_new(const struct vd_log_workers_context *ctx, unsigned i);
void vd_log_worker_free(struct vd_log_worker *gw);

/* The group template's callback and batch callback (user: the vd_log_worker). */
void vd_log_worker_packet(const struct vd_packet *pkt, void *user);
void vd_log_worker_batch(unsigned n, void *user);

#endif
