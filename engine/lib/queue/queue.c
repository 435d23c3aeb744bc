/*
 * queue.c - one NFQUEUE queue: a receive batch, a view of each packet, the
 * callback's verdict, the batch's verdicts in one send.
 *
 * Data flows one way: socket -> receive batch -> packet view -> callback ->
 * verdict batch -> socket. The receive loop is nl_rx.c's, shared with log
 * groups, and a datagram's verdicts are queue_answer.c's; this file owns the
 * socket and sends each batch's verdicts. Each batch
 * costs one recvmmsg and one sendmsg; nothing is allocated or copied per
 * packet.
 *
 * Threading: all of struct vd_queue belongs to the thread in vd_queue_run,
 * except rx.stop (any thread or signal handler) and `stats` (written by the
 * owner with relaxed atomic stores, read by anyone).
 */
#define _GNU_SOURCE
#include <arpa/inet.h> /* before the linux/ headers: glibc owns struct in_addr */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "counters.h"
#include "export.h"
#include "log.h"
#include "nl_rx.h"
#include "nl_socket.h"
#include "queue_answer.h"
#include "queue_config.h"
#include "queue_internal.h"
#include "verdict_batch.h"

#define STATS_FIELDS (sizeof(struct vd_queue_stats) / sizeof(uint64_t))

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
	/* Read by other threads: keep it off the owner's hot cache lines. */
	struct vd_queue_stats stats __attribute__((aligned(64)));
};

static void stats_publish(void *owner)
{
	struct vd_queue *q = owner;

	vd_counters_publish((uint64_t *)&q->stats, (uint64_t *)&q->delta, STATS_FIELDS);
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
	.turn_end = stats_publish,
};

/* During bind and unbind, queued packets can arrive before the kernel's
 * answer; they are answered at once like any others. */
static void handle_setup_datagram(const void *buf, size_t len, void *data)
{
	struct vd_queue *q = data;

	handle_datagram(q, buf, len, false);
	flush_verdicts(q);
	stats_publish(q);
}

static struct vd_nl_io setup_io(struct vd_queue *q)
{
	/* The first slot, its tail room kept as in the receive loop. */
	return (struct vd_nl_io){ .buf = q->rx.buf, .size = q->rx.recv_size,
				  .other = handle_setup_datagram, .data = q };
}

VD_EXPORT int vd_queue_run(struct vd_queue *q)
{
	if (vd_nl_rx_run(&q->rx, &queue_ops, q) < 0) {
		vd_log(VD_LOG_ERROR, "%s: receive failed: %s", q->name, strerror(errno));
		return -1;
	}
	return 0;
}

VD_EXPORT void vd_queue_stop(struct vd_queue *q)
{
	vd_nl_rx_stop(&q->rx);
}

VD_EXPORT void vd_queue_stats_sized(const struct vd_queue *q, struct vd_queue_stats *out,
				    size_t out_size)
{
	struct vd_queue_stats now;

	vd_counters_read((const uint64_t *)&q->stats, (uint64_t *)&now, STATS_FIELDS);
	vd_abi_copy_out(out, out_size, &now, sizeof(now));
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
	send_limit_set(q);
	q->answer = (struct vd_queue_answer){ .cfg = &q->cfg, .vb = &q->vb, .delta = &q->delta,
					      .flush = flush, .owner = q };
	io = setup_io(q);
	if (vd_queue_config_bind(q->nl, &q->cfg, &io, errbuf) < 0)
		goto fail;
	q->bound = true;
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
		ret = vd_queue_config_unbind(q->nl, q->cfg.queue_num, &io);
		saved = errno;
	}
	queue_free(q);
	errno = saved;
	return ret;
}
