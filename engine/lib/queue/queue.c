/*
 * queue.c - one NFQUEUE queue: a receive batch, a view of each packet, the
 * callback's verdict, the batch's verdicts in one send.
 *
 * Data flows one way: socket -> receive batch -> packet view -> callback ->
 * verdict batch -> socket. The receive loop is nl_rx.c's, shared with log
 * groups, and a datagram's verdicts are queue_answer.c's; this file owns the
 * socket, sends each batch's verdicts, and releases held ones (hold.h) and
 * answers pending ones (pending.h) at the end of every turn. Each batch
 * costs one recvmmsg and one sendmsg (one more in a turn that releases held
 * verdicts: those due at once go in one datagram, folded into a batch
 * verdict where no held id lies below them); nothing is allocated per
 * packet, nothing copied but a held rewritten packet.
 *
 * Threading: all of struct vd_queue belongs to the thread in vd_queue_run,
 * except rx.stop and the pending mailbox's wake-up (any thread or signal
 * handler), the mailbox (vd_queue_verdict, any thread, under its mutex) and
 * `stats` (written by the owner with relaxed atomic stores, read by anyone).
 */
#define _GNU_SOURCE
#include <arpa/inet.h> /* before the linux/ headers: glibc owns struct in_addr */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include <verdict/kernel_mark.h>

#include "counters.h"
#include "export.h"
#include "hold.h"
#include "log.h"
#include "nl_rx.h"
#include "nl_socket.h"
#include "queue_answer.h"
#include "queue_config.h"
#include "queue_internal.h"
#include "pending.h"
#include "verdict_batch.h"

/* The counters published as deltas; the hold fields after them are the
 * hold's own totals and gauges, stored whole; the counters added after
 * those (from rejected on) are deltas again. */
#define STATS_FIELDS (offsetof(struct vd_queue_stats, held) / sizeof(uint64_t))
#define STATS_LATER_FIRST (offsetof(struct vd_queue_stats, rejected) / sizeof(uint64_t))
#define STATS_LATER_FIELDS (sizeof(struct vd_queue_stats) / sizeof(uint64_t) - STATS_LATER_FIRST)

_Static_assert(VD_QUEUE_DEFAULT_BATCH == VD_NL_RX_DEFAULT_BATCH &&
	       VD_QUEUE_DEFAULT_RCVBUF == VD_NL_RX_DEFAULT_RCVBUF,
	       "verdict/queue.h documents the receive loop's defaults");

/* Rewritten packets that can be held at once (copies of up to
 * VD_QUEUE_MAX_PAYLOAD bytes each, allocated only for an edit callback). */
#define VD_QUEUE_HOLD_COPIES 64

/* The longest timed wait while only pending packets are awaited: stop is
 * seen within it, and answers wake the wait at once anyway. */
#define VD_QUEUE_PENDING_WAIT_NS 100000000

/* Answers taken from the mailbox per lock. */
#define VD_QUEUE_ANSWERS_PER_TAKE 64
/* The send buffer a rewriting queue asks for at most. */
#define VD_QUEUE_MAX_SNDBUF (16u << 20)

struct vd_queue {
	struct vd_queue_config cfg;
	struct mnl_socket *nl;
	bool bound;
	char name[24];           /* "queue N", for messages */
	struct vd_nl_rx rx;
	void *vb_buf;
	struct vd_verdict_batch vb;
	struct vd_queue_answer answer; /* datagrams to verdicts in vb */
	struct vd_queue_stats delta; /* this batch's counts, published at its end */
	struct vd_hold hold;         /* verdicts waiting for their release time */
	struct vd_pending pending;   /* packets whose verdict comes later */
	uint64_t hist_published;     /* release errors counted at the last publish */
	uint32_t maxlen_now;         /* the kernel queue length: vd_queue_grow's thread */
	unsigned rcvbuf_now;         /* the receive buffer: vd_queue_grow's thread */
	/* Read by other threads: keep it off the owner's hot cache lines. */
	struct vd_queue_stats stats __attribute__((aligned(64)));
};

static void gauge_store(uint64_t *field, uint64_t v)
{
	__atomic_store_n(field, v, __ATOMIC_RELAXED);
}

static void stats_publish(void *owner)
{
	struct vd_queue *q = owner;
	struct vd_hold *h = &q->hold;

	vd_counters_publish((uint64_t *)&q->stats, (uint64_t *)&q->delta, STATS_FIELDS);
	vd_counters_publish((uint64_t *)&q->stats + STATS_LATER_FIRST,
			    (uint64_t *)&q->delta + STATS_LATER_FIRST, STATS_LATER_FIELDS);
	gauge_store(&q->stats.held, h->count);
	gauge_store(&q->stats.held_max, h->held_max);
	gauge_store(&q->stats.released, h->released);
	gauge_store(&q->stats.pending, q->pending.count);
	gauge_store(&q->stats.hold_overflow, h->overflow);
	/* A histogram walk only when releases were counted since the last. */
	if (h->hist_count != q->hist_published) {
		q->hist_published = h->hist_count;
		gauge_store(&q->stats.release_error_p50_ns, vd_hold_percentile(h, 500));
		gauge_store(&q->stats.release_error_p99_ns, vd_hold_percentile(h, 990));
		gauge_store(&q->stats.release_error_max_ns, h->error_max_ns);
	}
}

/* Sends the batch's verdicts: one sendmsg for all of them, rewritten
 * packets read where they lie in the receive slots. */
static void flush_verdicts(struct vd_queue *q)
{
	const struct iovec *iov;
	unsigned niov;

	vd_verdict_batch_finish(&q->vb, &iov, &niov);
	if (niov > 0) {
		if (vd_nl_socket_sendv(q->nl, iov, niov) < 0) {
			q->delta.send_errors++;
			vd_log(VD_LOG_ERROR, "%s: sending %u verdicts failed: %s", q->name,
			       q->vb.npackets, strerror(errno));
		}
		q->delta.verdict_msgs += q->vb.nmsgs;
	}
	vd_verdict_batch_reset(&q->vb);
	vd_hold_recycle(&q->hold); /* the copies just sent */
}

/* The receive slot buf starts, writable: the queue allocated the slots, and
 * the receive loop hands them on read-only. */
static uint8_t *own_slot(struct vd_queue *q, const uint8_t *buf)
{
	return q->rx.buf + (buf - q->rx.buf);
}

static void handle_datagram(void *owner, const uint8_t *buf, size_t len, bool truncated)
{
	struct vd_queue *q = owner;

	vd_queue_answer_datagram(&q->answer, own_slot(q, buf), len, q->rx.slot_size, truncated);
}

static void flush(void *owner)
{
	flush_verdicts(owner);
}

static void batch_end(void *owner, unsigned n)
{
	struct vd_queue *q = owner;

	q->delta.batches++;
	if (q->cfg.batch_callback)
		q->cfg.batch_callback(n, q->cfg.user);
	flush_verdicts(q);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The answers other threads handed in for pending packets. */
static void answers_take(struct vd_queue *q)
{
	struct vd_pending_answer got[VD_QUEUE_ANSWERS_PER_TAKE];
	unsigned n;
	uint32_t mark;

	do {
		n = vd_pending_take(&q->pending, got, VD_QUEUE_ANSWERS_PER_TAKE);
		for (unsigned i = 0; i < n; i++) {
			if (vd_pending_remove(&q->pending, got[i].id, &mark))
				vd_queue_answer_verdict(&q->answer, got[i].id, got[i].v, mark);
			else
				q->delta.invalid_verdicts++; /* not pending, or answered twice */
		}
	} while (n == VD_QUEUE_ANSWERS_PER_TAKE);
}

/* After each turn with anything held or pending: answers, releases, one
 * send; folding again once nothing is held. */
static void holds_service(struct vd_queue *q)
{
	if (q->hold.count == 0 && q->pending.count == 0)
		return;
	if (q->pending.count > 0)
		answers_take(q);
	vd_queue_answer_release(&q->answer, now_ns());
	flush_verdicts(q);
	if (q->hold.count == 0 && q->pending.count == 0)
		vd_verdict_batch_set_fold(&q->vb, true);
}

static void turn_end(void *owner)
{
	holds_service(owner);
	stats_publish(owner);
}

static int64_t wait_ns(void *owner)
{
	struct vd_queue *q = owner;
	uint64_t next, now;

	if (!vd_hold_next(&q->hold, &next))
		return q->pending.count > 0 ? VD_QUEUE_PENDING_WAIT_NS : -1;
	now = now_ns();
	if (next <= now)
		return 0;
	next -= now;
	return next < VD_QUEUE_PENDING_WAIT_NS ? (int64_t)next : VD_QUEUE_PENDING_WAIT_NS;
}

/* At stop: nothing is held again; the answers that came are applied, the
 * packets still pending get the fallback, every hold goes at once. */
static void holds_drain(struct vd_queue *q)
{
	uint32_t id, mark;

	q->answer.stopping = true;
	vd_pending_close(&q->pending);
	answers_take(q);
	while (vd_pending_any(&q->pending, &id, &mark))
		vd_queue_answer_verdict(&q->answer, id, vd_queue_answer_fallback(&q->answer), mark);
	vd_queue_answer_release(&q->answer, UINT64_MAX);
	flush_verdicts(q);
	vd_verdict_batch_set_fold(&q->vb, true);
	stats_publish(q);
}

static void overrun(void *owner)
{
	((struct vd_queue *)owner)->delta.enobufs++;
}

static void recv_error(void *owner, int err)
{
	(void)err;
	((struct vd_queue *)owner)->delta.recv_errors++;
}

static const struct vd_nl_rx_ops queue_ops = {
	.datagram = handle_datagram,
	.batch_end = batch_end,
	.overrun = overrun,
	.recv_error = recv_error,
	.turn_end = turn_end,
	.wait_ns = wait_ns,
};

/* During bind and unbind, queued packets can arrive before the kernel's
 * answer; they are answered at once like any others. */
static void handle_setup_datagram(const void *buf, size_t len, void *data)
{
	struct vd_queue *q = data;

	handle_datagram(q, buf, len, false);
	flush_verdicts(q);
	turn_end(q);
}

static struct vd_nl_io setup_io(struct vd_queue *q)
{
	/* The first slot, its tail room kept as in the receive loop. */
	return (struct vd_nl_io){ .buf = q->rx.buf, .size = q->rx.recv_size,
				  .other = handle_setup_datagram, .data = q };
}

VD_EXPORT int vd_queue_run(struct vd_queue *q)
{
	/* A held verdict's timed wait would otherwise end up to the thread's
	 * timer slack late (50 us by default): releases lag, and then leave
	 * together, which is a burst above a shaped rate. */
	int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	int ret, saved;

	if (slack > 0)
		(void)prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
	ret = vd_nl_rx_run(&q->rx, &queue_ops, q);
	saved = errno;
	holds_drain(q);
	if (slack > 0)
		(void)prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0, 0, 0);
	if (ret < 0) {
		vd_log(VD_LOG_ERROR, "%s: receive failed: %s", q->name, strerror(saved));
		errno = saved;
		return -1;
	}
	return 0;
}

VD_EXPORT void vd_queue_stop(struct vd_queue *q)
{
	vd_nl_rx_stop(&q->rx);
	vd_pending_wake(&q->pending); /* a timed wait ends at once */
}

VD_EXPORT int vd_queue_verdict(struct vd_queue *q, uint32_t id, struct vd_verdict v)
{
	struct vd_wire_verdict wire;

	if (!q || !vd_wire_verdict_from(v, 0, q->cfg.kernel_mark_mask, &wire)) {
		errno = EINVAL;
		return -1;
	}
	return vd_pending_post(&q->pending, id, v);
}

VD_EXPORT void vd_queue_stats_sized(const struct vd_queue *q, struct vd_queue_stats *out,
				    size_t out_size)
{
	struct vd_queue_stats now;

	vd_counters_read((const uint64_t *)&q->stats, (uint64_t *)&now,
			 sizeof(now) / sizeof(uint64_t));
	vd_abi_copy_out(out, out_size, &now, sizeof(now));
}

VD_EXPORT int vd_queue_grow(struct vd_queue *q, uint32_t maxlen_max, unsigned rcvbuf_max)
{
	uint32_t maxlen = q->maxlen_now > maxlen_max / 2 ? maxlen_max : q->maxlen_now * 2;
	unsigned rcvbuf = q->rcvbuf_now;
	int grew = 0;

	if (maxlen > q->maxlen_now) {
		if (vd_queue_config_set_maxlen(q->nl, q->cfg.queue_num, maxlen) < 0) {
			vd_log(VD_LOG_ERROR, "%s: cannot grow the kernel queue to %u: %s", q->name,
			       maxlen, strerror(errno));
			return -1;
		}
		q->maxlen_now = maxlen;
		gauge_store(&q->stats.maxlen, maxlen);
		grew = 1;
	}
	if (rcvbuf_max)
		rcvbuf = vd_nl_socket_grow_rcvbuf(q->rx.fd, q->rcvbuf_now, rcvbuf_max);
	if (rcvbuf > q->rcvbuf_now) {
		q->rcvbuf_now = rcvbuf;
		gauge_store(&q->stats.rcvbuf, rcvbuf);
		grew = 1;
	}
	if (!grew)
		return 0;
	__atomic_fetch_add(&q->stats.grows, 1, __ATOMIC_RELAXED);
	vd_log(VD_LOG_WARN, "%s: the kernel dropped packets; queue length now %u, receive buffer "
	       "%u KiB (at most %u and %u KiB)", q->name, q->maxlen_now, q->rcvbuf_now >> 10,
	       maxlen_max > q->maxlen_now ? maxlen_max : q->maxlen_now,
	       (rcvbuf_max > q->rcvbuf_now ? rcvbuf_max : q->rcvbuf_now) >> 10);
	return 1;
}

VD_EXPORT uint16_t vd_queue_num(const struct vd_queue *q)
{
	return q->cfg.queue_num;
}

void vd_queue_set_rcu_qsbr(struct vd_queue *q, bool on)
{
	q->rx.rcu_qsbr = on;
}

static int config_check(struct vd_queue *q, const struct vd_queue_config *cfg, size_t cfg_size,
			char *errbuf)
{
	snprintf(q->name, sizeof(q->name), "queue %u", cfg->queue_num);
	if (vd_abi_copy_in(&q->cfg, sizeof(q->cfg), cfg, cfg_size) < 0) {
		vd_errbuf_set(errbuf, "%s: the program was built against a newer libverdict "
			      "(it sets queue settings this library does not know)", q->name);
		return -1;
	}
	if (!q->cfg.callback && !q->cfg.edit_callback) {
		vd_errbuf_set(errbuf, "%s: no packet callback given", q->name);
		errno = EINVAL;
		return -1;
	}
	if (q->cfg.copy_range == 0 || q->cfg.copy_range > VD_QUEUE_MAX_COPY_RANGE)
		q->cfg.copy_range = VD_QUEUE_MAX_COPY_RANGE;
	if (q->cfg.rcvbuf == 0)
		q->cfg.rcvbuf = VD_NL_RX_DEFAULT_RCVBUF;
	if (q->cfg.hold_max == 0)
		q->cfg.hold_max = VD_QUEUE_DEFAULT_HOLD_MAX;
	if (q->cfg.kernel_mark_mask && !vd_kmark_mask_valid(q->cfg.kernel_mark_mask)) {
		vd_errbuf_set(errbuf, "%s: kernel mark mask 0x%x is not 4 contiguous bits "
			      "(e.g. 0x%x)", q->name, q->cfg.kernel_mark_mask, VD_KMARK_DEFAULT_MASK);
		errno = EINVAL;
		return -1;
	}
	return vd_nl_rx_batch_check(&q->cfg.batch_size, q->name, errbuf);
}

/* Rewritten packets make verdict sends as large as the receive batch: the
 * send buffer is raised to hold one (it is a limit, not memory the kernel
 * keeps), and the batch sends early when even that would be passed. */
static void send_limit_set(struct vd_queue *q)
{
	int fd = mnl_socket_get_fd(q->nl);
	size_t want = (size_t)q->cfg.batch_size * (q->rx.slot_size + VD_VERDICT_MSG_MAX);

	if (q->cfg.edit_callback &&
	    vd_nl_socket_set_sndbuf(fd, want < VD_QUEUE_MAX_SNDBUF ? (unsigned)want
								   : VD_QUEUE_MAX_SNDBUF) < 0)
		vd_log(VD_LOG_WARN, "%s: cannot raise the send buffer: %s; rewritten packets "
		       "are sent in smaller batches", q->name, strerror(errno));
	vd_verdict_batch_set_send_limit(&q->vb, vd_nl_socket_send_limit(fd));
}

static void queue_free(struct vd_queue *q)
{
	if (q->nl)
		mnl_socket_close(q->nl);
	vd_nl_rx_free(&q->rx);
	vd_verdict_batch_free(&q->vb);
	vd_hold_free(&q->hold);
	vd_pending_free(&q->pending);
	free(q->vb_buf);
	free(q);
}

VD_EXPORT struct vd_queue *vd_queue_open_sized(const struct vd_queue_config *cfg,
					       size_t cfg_size, char *errbuf)
{
	struct vd_queue *q = aligned_alloc(64, sizeof(*q));
	struct vd_nl_io io;
	unsigned n;
	int saved;

	if (!q) {
		vd_errbuf_set(errbuf, "queue %u: out of memory", cfg->queue_num);
		return NULL;
	}
	memset(q, 0, sizeof(*q));
	q->pending.wake_fd = -1;
	if (config_check(q, cfg, cfg_size, errbuf) < 0)
		goto fail;
	n = q->cfg.batch_size;
	q->nl = vd_nl_socket_open(q->name, q->cfg.rcvbuf, VD_NL_NO_ENOBUFS, errbuf);
	if (!q->nl)
		goto fail;
	q->vb_buf = malloc(vd_verdict_batch_bufsize(n));
	/* A slot holds the largest datagram; with an edit callback, tail room
	 * after it too, so that a rewritten packet grows where it lies. */
	if (!q->vb_buf ||
	    vd_nl_rx_init_tail(&q->rx, mnl_socket_get_fd(q->nl), n,
			       q->cfg.copy_range + VD_NL_RX_MSG_OVERHEAD,
			       q->cfg.edit_callback ? VD_QUEUE_TAIL_ROOM : 0) < 0 ||
	    vd_verdict_batch_init(&q->vb, q->cfg.queue_num, q->vb_buf, n) < 0) {
		vd_errbuf_set(errbuf, "%s: out of memory for %u receive slots", q->name, n);
		errno = ENOMEM;
		goto fail;
	}
	if (vd_hold_init(&q->hold, q->cfg.hold_max,
			 q->cfg.edit_callback ? VD_QUEUE_HOLD_COPIES : 0, VD_QUEUE_MAX_PAYLOAD) < 0 ||
	    vd_pending_init(&q->pending, q->cfg.hold_max) < 0) {
		vd_errbuf_set(errbuf, "%s: cannot make room for %u held packets: %s", q->name,
			      q->cfg.hold_max, strerror(errno));
		goto fail;
	}
	q->rx.wake_fd = q->pending.wake_fd;
	send_limit_set(q);
	q->answer = (struct vd_queue_answer){ .cfg = &q->cfg, .vb = &q->vb, .delta = &q->delta,
					      .flush = flush, .owner = q, .hold = &q->hold,
					      .pending = &q->pending };
	io = setup_io(q);
	if (vd_queue_config_bind(q->nl, &q->cfg, &io, errbuf) < 0)
		goto fail;
	q->bound = true;
	q->maxlen_now = q->cfg.maxlen ? q->cfg.maxlen : VD_QUEUE_KERNEL_MAXLEN;
	q->rcvbuf_now = q->cfg.rcvbuf;
	q->stats.maxlen = q->maxlen_now;
	q->stats.rcvbuf = q->rcvbuf_now;
	return q;
fail:
	saved = errno;
	queue_free(q);
	errno = saved;
	return NULL;
}

VD_EXPORT int vd_queue_close(struct vd_queue *q)
{
	int ret = 0, saved = 0;

	if (!q)
		return 0;
	if (q->bound) {
		struct vd_nl_io io = setup_io(q);

		holds_drain(q); /* when it never ran: packets held during the bind */
		ret = vd_queue_config_unbind(q->nl, q->cfg.queue_num, &io);
		saved = errno;
	}
	queue_free(q);
	errno = saved;
	return ret;
}
