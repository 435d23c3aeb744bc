/*
 * verdict/engine.h - many queues and log groups, one worker thread each.
 *
 * For `iptables ... -j NFQUEUE --queue-balance 0:3` (and, say, `-j NFLOG
 * --nflog-group 5`), create an engine over queues 0-3 (and group 5): each
 * worker owns one vd_queue or vd_nflog and shares nothing with the others on
 * the hot path. Queues and groups run the same worker: the same thread
 * set-up, signal mask, pinning and liburcu QSBR registration (quiescent
 * after every receive batch, offline while blocked in a receive, so a
 * writer's synchronize_rcu() never waits on an idle worker).
 *
 *     struct vd_queue_config q = { .callback = cb };
 *     struct vd_engine_config cfg = { .queues = qs, .nqueues = 4, .queue = &q };
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

#include <verdict/abi.h>
#include <verdict/nflog.h>
#include <verdict/queue.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Gives each worker its own user pointer (per-worker Lua state, counters…).
 * worker is the worker's index among the queues (or among the groups, for
 * group_init), num its queue (group) number. Runs in vd_engine_create on the
 * caller's thread, just before the worker's queue or group is bound (packets
 * may need it from then on); afterwards only that worker's thread uses the
 * pointer. Return NULL with errno set to refuse: vd_engine_create then
 * fails. */
typedef void *(*vd_worker_init_cb)(unsigned worker, uint16_t num, void *engine_user);
/* Runs in vd_engine_destroy, after the worker's thread ended and its queue
 * or group was unbound. */
typedef void (*vd_worker_fini_cb)(unsigned worker, void *worker_user, void *engine_user);

struct vd_engine_config {
	const uint16_t *queues;  /* queue numbers, one worker each */
	size_t nqueues;
	const int *cpus;         /* optional: worker i (queues first, then groups)
				  * is pinned to cpus[i % ncpus] */
	size_t ncpus;
	/* Template for every queue (required with queues): queue_num is
	 * replaced by queues[i], and user by what worker_init returned (when
	 * worker_init is set). */
	const struct vd_queue_config *queue;
	vd_worker_init_cb worker_init; /* optional */
	vd_worker_fini_cb worker_fini; /* optional */
	void *user;              /* passed to every init and fini */
	/* NFLOG groups, one worker each, after the queues' workers. */
	const uint16_t *groups;
	size_t ngroups;
	const struct vd_nflog_config *group; /* template, as for queue (group, user replaced) */
	vd_worker_init_cb group_init; /* optional */
	vd_worker_fini_cb group_fini; /* optional */
	/* --- added in 0.4 --- */
	uint32_t kernel_mark_mask; /* when not 0: every queue's kernel_mark_mask
				    * (verdict/queue.h), whatever the template
				    * says; 0: the template's */
	/* 0.4's struct ended here in 4 bytes of tail padding, which a program
	 * built against it may leave uninitialised and passes in its size:
	 * never read, so that what 0.5 added lies past that size (and reads
	 * as 0 for such a program). */
	uint32_t reserved_0_4;
	/* --- added in 0.5 --- */
	/* 1-99: vd_engine_start makes each queue worker SCHED_FIFO at this
	 * priority, so that it wakes as soon as its socket or a held packet's
	 * release time is due, ahead of the ordinary threads that send and
	 * receive (shaped and delayed verdicts go out on time). 0: every
	 * worker keeps the policy of the thread that calls vd_engine_start.
	 * NFLOG group workers keep it always: they only read. Needs
	 * CAP_SYS_NICE, or RLIMIT_RTPRIO at least this priority (which an
	 * unprivileged process may use: the kernel lets it raise its own
	 * threads up to that limit). vd_engine_create refuses another value
	 * (EINVAL). */
	int realtime_priority;
	/* Names what would be tail padding: an initialiser zeroes it, so
	 * that 0.4's library, which checks these bytes as unknown settings,
	 * does not refuse a 0.5 program that leaves realtime_priority at 0;
	 * and a later field may take its place. Never read. */
	uint32_t reserved_0_5;
};

struct vd_engine;

/* Opens and binds every queue and group (so that permission and busy
 * errors show before any thread starts). NULL with errno and a message in
 * errbuf (VD_ERRBUF_SIZE bytes) on failure; nothing stays bound then.
 * Passes the caller's struct sizes (verdict/abi.h). */
struct vd_engine *vd_engine_create_sized(const struct vd_engine_config *cfg, size_t cfg_size,
					 size_t queue_cfg_size, size_t group_cfg_size,
					 char *errbuf);
#define vd_engine_create(cfg, errbuf)                                                 \
	vd_engine_create_sized((cfg), sizeof(*(cfg)), sizeof(*(cfg)->queue),          \
			       sizeof(*(cfg)->group), (errbuf))

/* Starts one thread per queue and group, with every signal blocked in it;
 * with realtime_priority, each queue worker is created SCHED_FIFO (the
 * policy is set before the worker runs). Returns 0, or -1 with errno and
 * errbuf filled (already started workers are stopped): the thread's error,
 * or the scheduler's refusal of realtime_priority (EPERM: neither
 * CAP_SYS_NICE nor RLIMIT_RTPRIO high enough), named with the queue and the
 * priority. */
int vd_engine_start(struct vd_engine *e, char *errbuf);

/* Asks every worker to stop. Async-signal-safe; idempotent. */
void vd_engine_stop(struct vd_engine *e);

/* Joins every worker. Returns 0, or -1 when a worker failed (its error was
 * logged). */
int vd_engine_wait(struct vd_engine *e);

/* True while every worker still runs (false once one has stopped, e.g. on a
 * fatal socket error, or after vd_engine_stop). */
int vd_engine_running(const struct vd_engine *e);

size_t vd_engine_nqueues(const struct vd_engine *e);
size_t vd_engine_ngroups(const struct vd_engine *e);

/* Counters of queue worker i (0 <= i < vd_engine_nqueues); returns its
 * queue number. Any thread. */
uint16_t vd_engine_stats_sized(const struct vd_engine *e, size_t i, struct vd_queue_stats *out,
			       size_t out_size);
#define vd_engine_stats(e, i, out) vd_engine_stats_sized((e), (i), (out), sizeof(*(out)))

/* vd_queue_grow on queue worker i (0 <= i < vd_engine_nqueues), after
 * vd_engine_create. Same threading and result. */
int vd_engine_queue_grow(struct vd_engine *e, size_t i, uint32_t maxlen_max,
			 unsigned rcvbuf_max);

/* The stream model over several queues: the verdict of packet id of queue
 * queue_num, whose callback answered vd_verdict_pending(), as
 * vd_queue_verdict gives it on one queue (verdict/queue.h). Packet ids are
 * per queue, so the callback passes on its queue's number with the id: it
 * knows it from its user pointer (worker_init receives num). Any thread, not
 * a signal handler; valid from vd_engine_create until vd_engine_destroy.
 * Returns 0, or -1 with errno ENOENT (no queue queue_num in e), or
 * vd_queue_verdict's: EINVAL, EAGAIN (try again), ESHUTDOWN (the queue
 * stopped: the packet got the fallback's verdict). Added in 0.4.
 *
 *     static struct vd_verdict cb(const struct vd_packet *pkt, void *user)
 *     {
 *             struct worker *w = user;     // from worker_init: w->num
 *             hand_over(w->num, pkt->id);  // to the deciding thread
 *             return vd_verdict_pending();
 *     }
 *     ...                                  // on the deciding thread:
 *     vd_engine_verdict(e, num, id, vd_verdict_accept());
 */
int vd_engine_verdict(struct vd_engine *e, uint16_t queue_num, uint32_t id, struct vd_verdict v);

/* Counters of group worker i (0 <= i < vd_engine_ngroups); returns its
 * group number. Any thread. */
uint16_t vd_engine_group_stats_sized(const struct vd_engine *e, size_t i,
				     struct vd_nflog_stats *out, size_t out_size);
#define vd_engine_group_stats(e, i, out)                                              \
	vd_engine_group_stats_sized((e), (i), (out), sizeof(*(out)))

/* Unbinds every queue and group and frees e. Call after vd_engine_wait (or
 * instead of vd_engine_start). NULL is a no-op. */
void vd_engine_destroy(struct vd_engine *e);

#ifdef __cplusplus
}
#endif

#endif
