/*
 * engine.c - one worker thread per queue.
 *
 * Queues are opened and bound on the caller's thread (so errors show before
 * anything runs); each worker then owns its queue alone. Workers block every
 * signal: the daemon's main thread handles them and calls vd_engine_stop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include <verdict/engine.h>

#include "log.h"
#include "queue_internal.h"

struct vd_worker {
	struct vd_engine *engine;
	struct vd_queue *queue;
	unsigned index;
	int cpu;                 /* -1: not pinned */
	void *user;              /* from worker_init */
	bool user_set;
	pthread_t thread;
	bool started;
	atomic_bool running;
	int result;
};

struct vd_engine {
	struct vd_engine_config cfg;
	struct vd_worker *workers;
	size_t nworkers;
};

static void *worker_main(void *arg)
{
	struct vd_worker *w = arg;

	if (w->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
			vd_log(VD_LOG_WARN, "queue %u: cannot pin to CPU %d", vd_queue_num(w->queue),
			       w->cpu);
	}
	rcu_register_thread();
	vd_queue_set_rcu_qsbr(w->queue, true);
	w->result = vd_queue_run(w->queue);
	rcu_unregister_thread();
	atomic_store(&w->running, false);
	return NULL;
}

static void engine_release(struct vd_engine *e)
{
	for (size_t i = 0; i < e->nworkers; i++) {
		struct vd_worker *w = &e->workers[i];

		if (w->queue && vd_queue_close(w->queue) < 0)
			vd_log(VD_LOG_WARN, "queue %u: unbind failed: %s",
			       e->cfg.queues[i], strerror(errno));
		if (w->user_set && e->cfg.worker_fini)
			e->cfg.worker_fini(w->index, w->user, e->cfg.user);
	}
	free(e->workers);
	free((void *)e->cfg.queues);
	free((void *)e->cfg.cpus);
	free(e);
}

/* Gives worker i its user pointer and its bound queue. */
static int worker_open(struct vd_engine *e, size_t i, char *errbuf)
{
	struct vd_worker *w = &e->workers[i];
	struct vd_queue_config qc = e->cfg.queue;

	w->engine = e;
	w->index = (unsigned)i;
	w->cpu = e->cfg.ncpus ? e->cfg.cpus[i % e->cfg.ncpus] : -1;
	qc.queue_num = e->cfg.queues[i];
	if (e->cfg.worker_init) {
		/* Before the bind: packets may arrive while it is acknowledged,
		 * and the callback needs its worker's state for them. */
		w->user = e->cfg.worker_init(w->index, qc.queue_num, e->cfg.user);
		if (!w->user) {
			vd_errbuf_set(errbuf, "queue %u: worker set-up failed: %s", qc.queue_num,
				      strerror(errno));
			return -1;
		}
		w->user_set = true;
		qc.user = w->user;
	}
	w->queue = vd_queue_open(&qc, errbuf);
	return w->queue ? 0 : -1;
}

static void *dup_array(const void *src, size_t n, size_t size)
{
	void *p = n ? malloc(n * size) : NULL;

	if (p)
		memcpy(p, src, n * size);
	return p;
}

struct vd_engine *vd_engine_create(const struct vd_engine_config *cfg, char *errbuf)
{
	struct vd_engine *e;
	int saved;

	if (!cfg->queues || cfg->nqueues == 0) {
		vd_errbuf_set(errbuf, "no queue given");
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		goto nomem;
	e->cfg = *cfg;
	e->cfg.queues = dup_array(cfg->queues, cfg->nqueues, sizeof(*cfg->queues));
	e->cfg.cpus = dup_array(cfg->cpus, cfg->ncpus, sizeof(*cfg->cpus));
	e->workers = calloc(cfg->nqueues, sizeof(*e->workers));
	if (!e->cfg.queues || (cfg->ncpus && !e->cfg.cpus) || !e->workers) {
		e->cfg.ncpus = 0;
		engine_release(e);
		goto nomem;
	}
	for (size_t i = 0; i < cfg->nqueues; i++) {
		e->nworkers = i + 1;
		if (worker_open(e, i, errbuf) < 0) {
			saved = errno;
			engine_release(e);
			errno = saved;
			return NULL;
		}
	}
	return e;
nomem:
	vd_errbuf_set(errbuf, "out of memory");
	errno = ENOMEM;
	return NULL;
}

int vd_engine_start(struct vd_engine *e, char *errbuf)
{
	sigset_t all, old;
	int err = 0;

	/* Threads inherit the creator's mask: block everything around the
	 * creation so no signal is ever delivered to a worker. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (size_t i = 0; i < e->nworkers && !err; i++) {
		struct vd_worker *w = &e->workers[i];

		atomic_store(&w->running, true);
		err = pthread_create(&w->thread, NULL, worker_main, w);
		if (err) {
			atomic_store(&w->running, false);
			vd_errbuf_set(errbuf, "queue %u: cannot start a worker thread: %s",
				      e->cfg.queues[i], strerror(err));
		} else {
			w->started = true;
		}
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

void vd_engine_stop(struct vd_engine *e)
{
	for (size_t i = 0; i < e->nworkers; i++)
		vd_queue_stop(e->workers[i].queue);
}

int vd_engine_wait(struct vd_engine *e)
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

int vd_engine_running(const struct vd_engine *e)
{
	for (size_t i = 0; i < e->nworkers; i++)
		if (atomic_load(&e->workers[i].running))
			return 1;
	return 0;
}

size_t vd_engine_nqueues(const struct vd_engine *e)
{
	return e->nworkers;
}

uint16_t vd_engine_stats(const struct vd_engine *e, size_t i, struct vd_queue_stats *out)
{
	vd_queue_stats(e->workers[i].queue, out);
	return e->cfg.queues[i];
}

void vd_engine_destroy(struct vd_engine *e)
{
	if (!e)
		return;
	vd_engine_stop(e);
	vd_engine_wait(e);
	engine_release(e);
}
