/*
 * log_workers.c - the daemon's NFLOG group workers (log_workers.h). The
 * threads are the engine's; this is what they do with a logged packet.
 */
#include <stdlib.h>

#include <verdict/nflog.h>

#include "log_workers.h"

struct vd_log_worker {
	struct vd_rules *rules;       /* NULL without --rules */
	unsigned index;               /* log worker index in rules */
	struct vd_log_writer *writer; /* NULL without outputs */
};

struct vd_log_worker *vd_log_worker_new(const struct vd_log_workers_context *ctx, unsigned i)
{
	struct vd_log_worker *gw = calloc(1, sizeof(*gw));

	if (!gw)
		return NULL;
	gw->rules = ctx->rules;
	gw->index = i;
	if (ctx->sink && !(gw->writer = vd_log_writer_new(ctx->sink))) {
		free(gw);
		return NULL;
	}
	return gw;
}

void vd_log_worker_free(struct vd_log_worker *gw)
{
	vd_log_writer_free(gw->writer);
	free(gw);
}

/* Hot path: the logs list decides, then one record into the writer's buffer. */
void vd_log_worker_packet(const struct vd_packet *pkt, void *user)
{
	struct vd_log_worker *gw = user;
	struct vd_rules_match m = { 0 };
	struct vd_verdict v = vd_verdict_accept();

	if (!gw->writer)
		return;
	if (gw->rules)
		v = vd_rules_eval_log(gw->rules, gw->index, pkt, &m);
	if (v.kind != VD_VERDICT_ACCEPT)
		return;
	vd_log_writer_record(gw->writer, pkt, m.rule, NULL,
			     (v.flags & VD_VERDICT_F_MARK) ? (int64_t)v.mark : -1, NULL);
}

void vd_log_worker_batch(unsigned n, void *user)
{
	struct vd_log_worker *gw = user;

	(void)n;
	if (gw->writer)
		vd_log_writer_flush(gw->writer);
}
