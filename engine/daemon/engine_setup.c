/* engine_setup.c - the engine verdictd's options describe: queue and group
 * configs, and the per-worker callbacks that put the rule table (or the one
 * default verdict) and the log outputs on each packet. */
#include <stdlib.h>

#include <verdict/libverdict.h>
#include <verdict/rules.h>

#include "engine_setup.h"
#include "log_sink.h"
#include "log_workers.h"
#include "queue_tuning.h"

/* A queue worker's own: which worker it is, and its log writer. */
struct worker_ctx {
	struct vd_rules *rules;
	unsigned index;
	struct vd_log_writer *writer; /* NULL without outputs */
};

static struct vd_verdict default_verdict_cb(const struct vd_packet *pkt, void *user)
{
	(void)pkt;
	return *(const struct vd_verdict *)user;
}

/* For a packet whose message could not be decoded: what nothing matched
 * gets, the table's default (or --default without rules). */
static struct vd_verdict default_fallback_cb(void *user)
{
	return *(const struct vd_verdict *)user;
}

static struct vd_verdict rules_fallback_cb(void *user)
{
	const struct worker_ctx *w = user;

	return vd_rules_default_verdict(w->rules);
}

/* Hot path: the rule table's verdict, its rewrites made in place (the
 * queue sends them); a record when the rule says log. */
static struct vd_verdict rules_edit_cb(struct vd_packet_edit *edit, void *user)
{
	const struct worker_ctx *w = user;
	struct vd_rules_match m;
	struct vd_verdict v;

	if (!w->writer)
		return vd_rules_eval_edit(w->rules, w->index, edit, NULL);
	v = vd_rules_eval_edit(w->rules, w->index, edit, &m);
	if (m.log)
		vd_log_writer_record(w->writer, edit->pkt, m.rule, &v, -1, edit);
	return v;
}

/* After each batch: the batch's records in one write. */
static void batch_cb(unsigned n, void *user)
{
	struct worker_ctx *w = user;

	(void)n;
	vd_log_writer_flush(w->writer);
}

static void *worker_init(unsigned worker, uint16_t queue_num, void *engine_user)
{
	struct daemon *d = engine_user;
	struct worker_ctx *w = calloc(1, sizeof(*w));

	(void)queue_num;
	if (!w)
		return NULL;
	*w = (struct worker_ctx){ .rules = d->rules, .index = worker };
	if (d->sink && !(w->writer = vd_log_writer_new(d->sink))) {
		free(w);
		return NULL;
	}
	return w;
}

static void worker_fini(unsigned worker, void *worker_user, void *engine_user)
{
	struct worker_ctx *w = worker_user;

	(void)worker;
	(void)engine_user;
	vd_log_writer_free(w->writer);
	free(w);
}

static void *group_init(unsigned worker, uint16_t group, void *engine_user)
{
	struct daemon *d = engine_user;

	(void)group;
	return vd_log_worker_new(&d->logs, worker);
}

static void group_fini(unsigned worker, void *worker_user, void *engine_user)
{
	(void)worker;
	(void)engine_user;
	vd_log_worker_free(worker_user);
}

uint32_t vd_daemon_hold_max(const struct vd_cli_options *o)
{
	return o->hold_max ? o->hold_max : VD_QUEUE_DEFAULT_HOLD_MAX;
}

/* Without --maxlen: what the receive buffer holds, and room for every held
 * packet when the rules delay (queue_tuning.h). */
uint32_t vd_daemon_queue_maxlen(const struct vd_cli_options *o, bool delays)
{
	if (o->maxlen)
		return o->maxlen;
	return vd_tuning_default_maxlen(o->rcvbuf ? o->rcvbuf : VD_QUEUE_DEFAULT_RCVBUF,
					o->batch ? o->batch : VD_QUEUE_DEFAULT_BATCH, delays,
					vd_daemon_hold_max(o));
}

/* The engine over every --queue and --nflog group. Queue workers get a
 * worker_ctx with rules (worker_init); group workers always get theirs
 * (log_workers.c), through d, which the init callbacks receive. */
struct vd_engine *vd_daemon_engine_create(struct daemon *d, const uint16_t *queues,
					  const uint16_t *groups, char *errbuf)
{
	struct vd_cli_options *o = d->opts;
	int cpus[VD_CLI_MAX_CPUS];
	uint32_t hold_max = vd_daemon_hold_max(o);
	struct vd_queue_config queue = {
		.copy_range = o->copy_range,
		.maxlen = vd_daemon_queue_maxlen(o, d->rules && vd_rules_delays(d->rules)),
		.hold_max = hold_max,
		.flags = o->queue_flags,
		.optional_flags = o->optional_flags,
		.batch_size = o->batch,
		.rcvbuf = o->rcvbuf,
		/* Without rules nothing is rewritten: the plain callback. */
		.callback = d->rules ? NULL : default_verdict_cb,
		.edit_callback = d->rules ? rules_edit_cb : NULL,
		.fallback = d->rules ? rules_fallback_cb : default_fallback_cb,
		.user = &o->default_verdict,
	};
	struct vd_nflog_config group = {
		.copy_mode = o->nflog_copy,
		.copy_range = o->nflog_range,
		.threshold = o->nflog_threshold,
		.timeout_cs = o->nflog_timeout,
		.nlbufsiz = o->nflog_nlbufsiz,
		.flags = o->nflog_flags,
		.rcvbuf = o->rcvbuf,
		.rcvbuf_max = o->nflog_rcvbuf_max,
		.callback = vd_log_worker_packet,
		.batch_callback = vd_log_worker_batch,
	};
	struct vd_engine_config cfg = {
		.queues = queues,
		.nqueues = o->nqueues,
		.cpus = cpus,
		.ncpus = o->ncpus,
		.queue = &queue,
		.groups = groups,
		.ngroups = o->ngroups,
		.group = &group,
		.group_init = group_init,
		.group_fini = group_fini,
		.user = d,
		/* --firewall or --bypass-mark: reject and connection verdicts go
		 * through the generated rules' field; 0 without them. */
		.kernel_mark_mask = o->kernel_mark_mask,
		.realtime_priority = o->realtime, /* set up by lock_down (main.c) */
	};

	if (d->rules) {
		cfg.worker_init = worker_init;
		cfg.worker_fini = worker_fini;
		if (d->sink)
			queue.batch_callback = batch_cb;
	}
	for (size_t i = 0; i < o->ncpus; i++)
		cpus[i] = (int)o->cpus[i];
	return vd_engine_create(&cfg, errbuf);
}
