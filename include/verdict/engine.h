/*
 * verdict/engine.h - many queues, one worker thread each.
 *
 * For `iptables ... -j NFQUEUE --queue-balance 0:3`, create an engine over
 * queues 0-3: each worker owns one vd_queue and shares nothing with the
 * others on the hot path. Workers are registered with liburcu's QSBR flavour:
 * they report a quiescent state after every receive batch and are offline
 * while blocked in a receive, so a writer's synchronize_rcu() never waits on
 * an idle queue.
 *
 *     struct vd_engine_config cfg = { .queues = qs, .nqueues = 4,
 *                                     .queue = { .callback = cb } };
 *     struct vd_engine *e = vd_engine_create(&cfg, err);
 *     vd_engine_start(e, err);
 *     ...                          // vd_engine_stop(e) from a signal handler
 *     vd_engine_wait(e);
 *     vd_engine_destroy(e);
 */
#ifndef VERDICT_ENGINE_H
#define VERDICT_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <verdict/queue.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Gives each worker its own user pointer (per-worker Lua state, counters…).
 * Runs in vd_engine_create on the caller's thread, just before the worker's
 * queue is bound (packets may need it from then on); afterwards only that
 * worker's thread uses the pointer. Return NULL with errno set to refuse:
 * vd_engine_create then fails. */
typedef void *(*vd_worker_init_cb)(unsigned worker, uint16_t queue_num, void *engine_user);
/* Runs in vd_engine_destroy, after the worker's thread ended and its queue
 * was unbound. */
typedef void (*vd_worker_fini_cb)(unsigned worker, void *worker_user, void *engine_user);

struct vd_engine_config {
	const uint16_t *queues;  /* queue numbers, one worker each */
	size_t nqueues;
	const int *cpus;         /* optional: worker i is pinned to cpus[i % ncpus] */
	size_t ncpus;
	/* Template for every queue: queue_num is replaced by queues[i], and user
	 * by what worker_init returned (when worker_init is set). */
	struct vd_queue_config queue;
	vd_worker_init_cb worker_init; /* optional */
	vd_worker_fini_cb worker_fini; /* optional */
	void *user;              /* passed to worker_init and worker_fini */
};

struct vd_engine;

/* Opens and binds every queue (so that permission and busy-queue errors show
 * before any thread starts). NULL with errno and a message in errbuf
 * (VD_ERRBUF_SIZE bytes) on failure; nothing stays bound then. */
struct vd_engine *vd_engine_create(const struct vd_engine_config *cfg, char *errbuf);

/* Starts one thread per queue, with every signal blocked in it. Returns 0,
 * or -1 with errno and errbuf filled (already started workers are stopped). */
int vd_engine_start(struct vd_engine *e, char *errbuf);

/* Asks every worker to stop. Async-signal-safe; idempotent. */
void vd_engine_stop(struct vd_engine *e);

/* Joins every worker. Returns 0, or -1 when a worker failed (its error was
 * logged to stderr). */
int vd_engine_wait(struct vd_engine *e);

/* True while at least one worker still runs. */
int vd_engine_running(const struct vd_engine *e);

size_t vd_engine_nqueues(const struct vd_engine *e);

/* Counters of worker i (0 <= i < vd_engine_nqueues); returns its queue number. */
uint16_t vd_engine_stats(const struct vd_engine *e, size_t i, struct vd_queue_stats *out);

/* Unbinds every queue and frees e. Call after vd_engine_wait (or instead of
 * vd_engine_start). NULL is a no-op. */
void vd_engine_destroy(struct vd_engine *e);

#ifdef __cplusplus
}
#endif

#endif
