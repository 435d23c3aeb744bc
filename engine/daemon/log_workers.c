/*
 * log_workers.c - one thread per NFLOG group (log_workers.h).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <verdict/nflog.h>

#include "internal.h"
#include "log_workers.h"

struct group_worker {
	struct vd_nflog *group;
	struct vd_rules *rules;       /* NULL without --rules */
	unsigned index;               /* log worker index in rules */
	struct vd_log_writer *writer; /* NULL without outputs */
	pthread_t thread;
	bool started;
	int status;
};

struct vd_log_workers {
	struct group_worker *w;
	size_t n;
	_Atomic size_t running;
};

/* Hot path: the logs list decides, then one record into the writer's buffer. */
static void on_packet(const struct vd_packet *pkt, void *user)
{
	struct group_worker *gw = user;
	struct vd_rules_match m = { 0 };
	struct vd_verdict v = vd_verdict_accept();

	if (!gw->writer)
		return;
	if (gw->rules)
		v = vd_rules_eval_log(gw->rules, gw->index, pkt, &m);
	if (v.kind != VD_VERDICT_ACCEPT)
		return;
	vd_log_writer_record(gw->writer, pkt, m.rule, NULL,
			     (v.flags & VD_VERDICT_F_MARK) ? (int64_t)v.mark : -1);
}

static void on_batch(unsigned n, void *user)
{
	struct group_worker *gw = user;

	(void)n;
	if (gw->writer)
		vd_log_writer_flush(gw->writer);
}

struct thread_arg {
	struct vd_log_workers *all;
	struct group_worker *gw;
};

static void *group_thread(void *p)
{
	struct thread_arg *a = p;
	struct group_worker *gw = a->gw;
	struct vd_log_workers *all = a->all;

	free(a);
	rcu_register_thread();
	vd_nflog_set_rcu_qsbr(gw->group, true);
	gw->status = vd_nflog_run(gw->group);
	rcu_unregister_thread();
	atomic_fetch_sub(&all->running, 1);
	return NULL;
}

static int open_groups(struct vd_log_workers *all, const struct vd_cli_options *o,
		       struct vd_rules *rules, struct vd_log_sink *sink, char *err, size_t errlen)
{
	for (size_t i = 0; i < all->n; i++) {
		struct group_worker *gw = &all->w[i];

		gw->rules = rules;
		gw->index = (unsigned)i;
		struct vd_nflog_config cfg = {
			.group = (uint16_t)o->groups[i],
			.copy_mode = o->nflog_copy,
			.copy_range = o->nflog_range,
			.threshold = o->nflog_threshold,
			.timeout_cs = o->nflog_timeout,
			.nlbufsiz = o->nflog_nlbufsiz,
			.flags = o->nflog_flags,
			.rcvbuf = o->rcvbuf,
			.rcvbuf_max = o->nflog_rcvbuf_max,
			.callback = on_packet,
			.batch_callback = on_batch,
			.user = gw,
		};
		char why[VD_ERRBUF_SIZE];

		if (sink && !(gw->writer = vd_log_writer_new(sink))) {
			snprintf(err, errlen, "nflog: out of memory");
			return -1;
		}
		gw->group = vd_nflog_open(&cfg, why);
		if (!gw->group) {
			snprintf(err, errlen, "%s", why);
			return -1;
		}
	}
	return 0;
}

struct vd_log_workers *vd_log_workers_start(const struct vd_cli_options *o, struct vd_rules *rules,
					    struct vd_log_sink *sink, char *err, size_t errlen)
{
	struct vd_log_workers *all = calloc(1, sizeof(*all));
	sigset_t all_signals, old;

	if (!all || !(all->w = calloc(o->ngroups, sizeof(*all->w)))) {
		free(all);
		snprintf(err, errlen, "nflog: out of memory");
		return NULL;
	}
	all->n = o->ngroups;
	if (open_groups(all, o, rules, sink, err, errlen) < 0)
		goto fail;
	/* Signals belong to the main thread (signalfd): block them in workers. */
	sigfillset(&all_signals);
	pthread_sigmask(SIG_SETMASK, &all_signals, &old);
	for (size_t i = 0; i < all->n; i++) {
		struct thread_arg *a = malloc(sizeof(*a));

		if (!a)
			break;
		*a = (struct thread_arg){ all, &all->w[i] };
		atomic_fetch_add(&all->running, 1);
		if (pthread_create(&all->w[i].thread, NULL, group_thread, a) != 0) {
			atomic_fetch_sub(&all->running, 1);
			free(a);
			break;
		}
		all->w[i].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!all->w[all->n - 1].started) {
		snprintf(err, errlen, "nflog: cannot start worker threads: %s", strerror(errno));
		vd_log_workers_stop(all);
		vd_log_workers_wait(all);
		goto fail;
	}
	return all;
fail:
	vd_log_workers_free(all);
	return NULL;
}

bool vd_log_workers_running(const struct vd_log_workers *w)
{
	return atomic_load(&w->running) == w->n;
}

void vd_log_workers_stop(struct vd_log_workers *w)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->w[i].group)
			vd_nflog_stop(w->w[i].group);
}

int vd_log_workers_wait(struct vd_log_workers *w)
{
	int ret = 0;

	for (size_t i = 0; i < w->n; i++) {
		if (!w->w[i].started)
			continue;
		pthread_join(w->w[i].thread, NULL);
		w->w[i].started = false;
		if (w->w[i].status < 0)
			ret = -1;
	}
	return ret;
}

void vd_log_workers_report(FILE *out, const struct vd_log_workers *w, const char *label)
{
	fprintf(out, "nflog%s%s:", label ? " " : "", label ? label : "");
	for (size_t i = 0; i < w->n; i++) {
		struct vd_nflog_stats st;

		if (!w->w[i].group)
			continue;
		vd_nflog_stats(w->w[i].group, &st);
		fprintf(out, "%s g%u packets=%llu bytes=%llu parse_errors=%llu enobufs=%llu "
			"seq_gaps=%llu recv_errors=%llu rcvbuf=%llu", i ? ";" : "",
			vd_nflog_group(w->w[i].group), (unsigned long long)st.packets,
			(unsigned long long)st.bytes, (unsigned long long)st.parse_errors,
			(unsigned long long)st.enobufs, (unsigned long long)st.seq_gaps,
			(unsigned long long)st.recv_errors, (unsigned long long)st.rcvbuf);
	}
	fputc('\n', out);
	fflush(out);
}

void vd_log_workers_free(struct vd_log_workers *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++) {
		unsigned num = w->w[i].group ? vd_nflog_group(w->w[i].group) : 0;

		if (w->w[i].group && vd_nflog_close(w->w[i].group) < 0)
			vd_log(VD_LOG_WARN, "nflog group %u: unbind failed: %s", num,
			       strerror(errno));
		vd_log_writer_free(w->w[i].writer);
	}
	free(w->w);
	free(w);
}
