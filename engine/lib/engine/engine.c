/*
 * engine.c - one worker thread per queue and per log group.
 *
 * Queues and groups are opened and bound on the caller's thread (so errors
 * show before anything runs); each worker then owns its queue or group
 * alone. Both kinds run the same worker: only what it opens, runs and stops
 * differs (struct source_ops). Workers block every signal: the program's
 * main thread handles them and calls vd_engine_stop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include <verdict/engine.h>

#include "export.h"
#include "log.h"
#include "nflog_internal.h"
#include "queue_internal.h"

/* What a worker runs: a queue or a log group. */
struct source_ops {
	const char *kind; /* "queue", "nflog group": for messages */
	int (*run)(void *source);
	void (*stop)(void *source);
	int (*close)(void *source);
	void (*set_rcu_qsbr)(void *source, bool on);
};

static int queue_run(void *s) { return vd_queue_run(s); }
static void queue_stop(void *s) { vd_queue_stop(s); }
static int queue_close(void *s) { return vd_queue_close(s); }
static void queue_rcu(void *s, bool on) { vd_queue_set_rcu_qsbr(s, on); }
static int group_run(void *s) { return vd_nflog_run(s); }
static void group_stop(void *s) { vd_nflog_stop(s); }
static int group_close(void *s) { return vd_nflog_close(s); }
static void group_rcu(void *s, bool on) { vd_nflog_set_rcu_qsbr(s, on); }

static const struct source_ops queue_source = { "queue", queue_run, queue_stop, queue_close,
						queue_rcu };
static const struct source_ops group_source = { "nflog group", group_run, group_stop,
						group_close, group_rcu };

struct vd_worker {
	const struct source_ops *ops;
	void *source;            /* struct vd_queue or struct vd_nflog */
	uint16_t num;            /* its queue or group number */
	unsigned index;          /* among the workers of its kind */
	int cpu;                 /* -1: not pinned */
	void *user;              /* from worker_init / group_init */
	bool user_set;
	vd_worker_fini_cb fini;
	pthread_t thread;
	bool started;
	atomic_bool running;
	int result;
};

struct vd_engine {
	struct vd_engine_config cfg;
	struct vd_queue_config queue;  /* the templates, copied */
	struct vd_nflog_config group;
	struct vd_worker *workers;     /* nqueues queue workers, then ngroups */
	size_t nqueues, ngroups, nworkers;
};

static void *worker_main(void *arg)
{
	struct vd_worker *w = arg;

	if (w->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
			vd_log(VD_LOG_WARN, "%s %u: cannot pin to CPU %d", w->ops->kind, w->num,
			       w->cpu);
	}
	rcu_register_thread();
	w->ops->set_rcu_qsbr(w->source, true);
	w->result = w->ops->run(w->source);
	rcu_unregister_thread();
	atomic_store(&w->running, false);
	return NULL;
}

static void engine_release(struct vd_engine *e)
{
	for (size_t i = 0; i < e->nworkers; i++) {
		struct vd_worker *w = &e->workers[i];

		if (w->source && w->ops->close(w->source) < 0)
			vd_log(VD_LOG_WARN, "%s %u: unbind failed: %s", w->ops->kind, w->num,
			       strerror(errno));
		if (w->user_set && w->fini)
			w->fini(w->index, w->user, e->cfg.user);
	}
	free(e->workers);
	free(e);
}

/* Runs init (if any) for worker w; its result becomes the source's user. */
static int worker_user(struct vd_engine *e, struct vd_worker *w, vd_worker_init_cb init,
		       char *errbuf)
{
	if (!init)
		return 0;
	/* Before the bind: packets may arrive while it is acknowledged, and the
	 * callback needs its worker's state for them. */
	w->user = init(w->index, w->num, e->cfg.user);
	if (!w->user) {
		vd_errbuf_set(errbuf, "%s %u: worker set-up failed: %s", w->ops->kind, w->num,
			      strerror(errno));
		return -1;
	}
	w->user_set = true;
	return 0;
}

/* Gives worker i its user pointer and its bound queue or group. */
static int worker_open(struct vd_engine *e, size_t i, char *errbuf)
{
	struct vd_worker *w = &e->workers[i];
	bool is_queue = i < e->nqueues;

	w->index = (unsigned)(is_queue ? i : i - e->nqueues);
	w->num = is_queue ? e->cfg.queues[w->index] : e->cfg.groups[w->index];
	w->ops = is_queue ? &queue_source : &group_source;
	w->cpu = e->cfg.ncpus ? e->cfg.cpus[i % e->cfg.ncpus] : -1;
	w->fini = is_queue ? e->cfg.worker_fini : e->cfg.group_fini;
	if (worker_user(e, w, is_queue ? e->cfg.worker_init : e->cfg.group_init, errbuf) < 0)
		return -1;
	if (is_queue) {
		struct vd_queue_config qc = e->queue;

		qc.queue_num = w->num;
		if (e->cfg.kernel_mark_mask)
			qc.kernel_mark_mask = e->cfg.kernel_mark_mask;
		if (w->user_set)
			qc.user = w->user;
		w->source = vd_queue_open(&qc, errbuf);
	} else {
		struct vd_nflog_config gc = e->group;

		gc.group = w->num;
		if (w->user_set)
			gc.user = w->user;
		w->source = vd_nflog_open(&gc, errbuf);
	}
	return w->source ? 0 : -1;
}

/* Copies cfg and its templates, each by the caller's size; owns nothing of
 * the caller's after this (arrays are copied too). */
static int config_copy(struct vd_engine *e, const struct vd_engine_config *cfg, size_t cfg_size,
		       size_t queue_size, size_t group_size, char *errbuf)
{
	if (vd_abi_copy_in(&e->cfg, sizeof(e->cfg), cfg, cfg_size) < 0 ||
	    (e->cfg.queue && vd_abi_copy_in(&e->queue, sizeof(e->queue), e->cfg.queue,
					    queue_size) < 0) ||
	    (e->cfg.group && vd_abi_copy_in(&e->group, sizeof(e->group), e->cfg.group,
					    group_size) < 0)) {
		vd_errbuf_set(errbuf, "engine: the program was built against a newer libverdict "
			      "(it sets settings this library does not know)");
		return -1;
	}
	if (e->cfg.realtime_priority < 0 || e->cfg.realtime_priority > 99) {
		vd_errbuf_set(errbuf, "engine: realtime_priority %d is not 0 (off) or a SCHED_FIFO "
			      "priority from 1 to 99", e->cfg.realtime_priority);
		errno = EINVAL;
		return -1;
	}
	e->nqueues = e->cfg.queues ? e->cfg.nqueues : 0;
	e->ngroups = e->cfg.groups ? e->cfg.ngroups : 0;
	if (e->nqueues + e->ngroups == 0 || (e->nqueues && !e->cfg.queue) ||
	    (e->ngroups && !e->cfg.group)) {
		vd_errbuf_set(errbuf, "engine: %s", e->nqueues + e->ngroups == 0
			      ? "no queue and no log group given"
			      : "a queue or group list without its template config");
		errno = EINVAL;
		return -1;
	}
	if (e->cfg.ncpus && !e->cfg.cpus)
		e->cfg.ncpus = 0;
	return 0;
}

VD_EXPORT struct vd_engine *vd_engine_create_sized(const struct vd_engine_config *cfg,
						   size_t cfg_size, size_t queue_cfg_size,
						   size_t group_cfg_size, char *errbuf)
{
	struct vd_engine *e = calloc(1, sizeof(*e));
	int saved;

	if (!e) {
		vd_errbuf_set(errbuf, "engine: out of memory");
		return NULL;
	}
	if (config_copy(e, cfg, cfg_size, queue_cfg_size, group_cfg_size, errbuf) < 0)
		goto fail;
	e->workers = calloc(e->nqueues + e->ngroups, sizeof(*e->workers));
	if (!e->workers) {
		vd_errbuf_set(errbuf, "engine: out of memory");
		errno = ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < e->nqueues + e->ngroups; i++) {
		e->nworkers = i + 1;
		if (worker_open(e, i, errbuf) < 0)
			goto fail;
	}
	/* The caller's arrays are not kept: everything needed is in workers. */
	e->cfg.queues = e->cfg.groups = NULL;
	e->cfg.cpus = NULL;
	e->cfg.queue = NULL;
	e->cfg.group = NULL;
	return e;
fail:
	saved = errno;
	engine_release(e);
	errno = saved;
	return NULL;
}

/* The attributes of queue workers with realtime_priority: the policy is
 * set by pthread_create (from this thread, before the worker runs a single
 * instruction), which fails with the scheduler's refusal. */
static int realtime_attr(const struct vd_engine *e, pthread_attr_t *attr)
{
	struct sched_param param = { .sched_priority = e->cfg.realtime_priority };

	pthread_attr_init(attr);
	if (pthread_attr_setinheritsched(attr, PTHREAD_EXPLICIT_SCHED) != 0 ||
	    pthread_attr_setschedpolicy(attr, SCHED_FIFO) != 0 ||
	    pthread_attr_setschedparam(attr, &param) != 0) {
		pthread_attr_destroy(attr);
		return -1;
	}
	return 0;
}

/* Starts worker w; on failure, errbuf says why and the error is returned. */
static int worker_start(const struct vd_engine *e, struct vd_worker *w, bool realtime,
			char *errbuf)
{
	int prio = e->cfg.realtime_priority;
	pthread_attr_t attr;
	int err;

	if (realtime && realtime_attr(e, &attr) < 0) {
		vd_errbuf_set(errbuf, "%s %u: SCHED_FIFO priority %d: cannot describe it to the "
			      "thread library", w->ops->kind, w->num, prio);
		return EINVAL;
	}
	err = pthread_create(&w->thread, realtime ? &attr : NULL, worker_main, w);
	if (realtime)
		pthread_attr_destroy(&attr);
	if (err == EPERM && realtime)
		vd_errbuf_set(errbuf, "%s %u: SCHED_FIFO priority %d refused: %s (needs "
			      "CAP_SYS_NICE or RLIMIT_RTPRIO >= %d)", w->ops->kind, w->num, prio,
			      strerror(err), prio);
	else if (err == EINVAL && realtime)
		vd_errbuf_set(errbuf, "%s %u: SCHED_FIFO priority %d refused: %s", w->ops->kind,
			      w->num, prio, strerror(err));
	else if (err)
		vd_errbuf_set(errbuf, "%s %u: cannot start a worker thread: %s", w->ops->kind,
			      w->num, strerror(err));
	return err;
}

VD_EXPORT int vd_engine_start(struct vd_engine *e, char *errbuf)
{
	sigset_t all, old;
	int err = 0;

	/* Threads inherit the creator's mask: block everything around the
	 * creation so no signal is ever delivered to a worker. All but SIGSYS:
	 * a seccomp trap is the worker's own, and blocked it kills the process
	 * without the program's handler (and its line saying why). */
	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (size_t i = 0; i < e->nworkers && !err; i++) {
		struct vd_worker *w = &e->workers[i];

		atomic_store(&w->running, true);
		/* Queues only: log groups read, nothing waits on their timing. */
		err = worker_start(e, w, i < e->nqueues && e->cfg.realtime_priority, errbuf);
		if (err)
			atomic_store(&w->running, false);
		else
			w->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		vd_engine_stop(e);
		vd_engine_wait(e);
		errno = err;
		return -1;
	}
	return 0;
}

VD_EXPORT void vd_engine_stop(struct vd_engine *e)
{
	for (size_t i = 0; i < e->nworkers; i++)
		if (e->workers[i].source)
			e->workers[i].ops->stop(e->workers[i].source);
}

VD_EXPORT int vd_engine_wait(struct vd_engine *e)
{
	int ret = 0;

	for (size_t i = 0; i < e->nworkers; i++) {
		struct vd_worker *w = &e->workers[i];

		if (!w->started)
			continue;
		pthread_join(w->thread, NULL);
		w->started = false;
		if (w->result < 0)
			ret = -1;
	}
	return ret;
}

VD_EXPORT int vd_engine_running(const struct vd_engine *e)
{
	for (size_t i = 0; i < e->nworkers; i++)
		if (!atomic_load(&e->workers[i].running))
			return 0;
	return e->nworkers > 0;
}

VD_EXPORT size_t vd_engine_nqueues(const struct vd_engine *e)
{
	return e->nqueues;
}

VD_EXPORT size_t vd_engine_ngroups(const struct vd_engine *e)
{
	return e->ngroups;
}

VD_EXPORT uint16_t vd_engine_stats_sized(const struct vd_engine *e, size_t i,
					 struct vd_queue_stats *out, size_t out_size)
{
	vd_queue_stats_sized(e->workers[i].source, out, out_size);
	return e->workers[i].num;
}

VD_EXPORT int vd_engine_queue_grow(struct vd_engine *e, size_t i, uint32_t maxlen_max,
				   unsigned rcvbuf_max)
{
	return vd_queue_grow(e->workers[i].source, maxlen_max, rcvbuf_max);
}

/* The workers never change after vd_engine_create: no lock to find one. */
VD_EXPORT int vd_engine_verdict(struct vd_engine *e, uint16_t queue_num, uint32_t id,
				struct vd_verdict v)
{
	for (size_t i = 0; i < e->nqueues; i++)
		if (e->workers[i].num == queue_num)
			return vd_queue_verdict(e->workers[i].source, id, v);
	errno = ENOENT;
	return -1;
}

VD_EXPORT uint16_t vd_engine_group_stats_sized(const struct vd_engine *e, size_t i,
					       struct vd_nflog_stats *out, size_t out_size)
{
	const struct vd_worker *w = &e->workers[e->nqueues + i];

	vd_nflog_stats_sized(w->source, out, out_size);
	return w->num;
}

VD_EXPORT void vd_engine_destroy(struct vd_engine *e)
{
	if (!e)
		return;
	vd_engine_stop(e);
	vd_engine_wait(e);
	engine_release(e);
}
