/*
 * queue.c - the per-queue hot loop: receive a batch, view each packet, ask
 * the callback, send the batch's verdicts.
 *
 * Data flows one way: socket -> receive batch -> packet view -> callback ->
 * verdict batch -> socket. Each batch costs one recvmmsg and one sendmsg;
 * nothing is allocated or copied per packet.
 *
 * Threading: all of struct vd_queue belongs to the thread in vd_queue_run,
 * except `stop` (any thread or signal handler) and `stats` (written by the
 * owner with relaxed atomic stores, read by anyone).
 */
#define _GNU_SOURCE
#include <arpa/inet.h> /* before the linux/ headers: glibc owns struct in_addr */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "counters.h"
#include "log.h"
#include "nfq_message.h"
#include "nfq_socket.h"
#include "queue_internal.h"
#include "rcu.h"
#include "verdict_batch.h"

#define DEFAULT_BATCH 64
#define MAX_BATCH 1024
#define DEFAULT_RCVBUF (8u << 20)
/* Netlink and attribute overhead around a packet's payload. */
#define MSG_OVERHEAD 4096
/* Bound on the shutdown drain, so a flood cannot keep us from exiting. */
#define DRAIN_MAX_BATCHES 256

#define STATS_FIELDS (sizeof(struct vd_queue_stats) / sizeof(uint64_t))

struct vd_queue {
	struct vd_queue_config cfg;
	struct mnl_socket *nl;
	int fd;
	bool bound;
	bool rcu_qsbr;
	size_t slot_size;
	uint8_t *rx;             /* batch_size slots of slot_size bytes */
	struct mmsghdr *msgs;
	struct iovec *iov;
	void *vb_buf;
	struct vd_verdict_batch vb;
	struct vd_packet pkt;    /* reused for every packet */
	struct vd_queue_stats delta; /* this batch's counts, published at its end */
	atomic_int stop;
	/* Read by other threads: keep it off the owner's hot cache lines. */
	struct vd_queue_stats stats __attribute__((aligned(64)));
};

static void stats_publish(struct vd_queue *q)
{
	vd_counters_publish((uint64_t *)&q->stats, (uint64_t *)&q->delta, STATS_FIELDS);
}

static void count_verdict(struct vd_queue_stats *d, struct vd_verdict v)
{
	switch (v.kind) {
	case VD_VERDICT_ACCEPT:
		d->accepted++;
		break;
	case VD_VERDICT_DROP:
		d->dropped++;
		break;
	case VD_VERDICT_QUEUE:
		d->queued++;
		break;
	default:
		d->repeated++;
		break;
	}
	if (v.flags & VD_VERDICT_F_MARK)
		d->marked++;
}

/* Sends the batch's verdicts: one sendmsg for all of them. */
static void flush_verdicts(struct vd_queue *q)
{
	const void *buf;
	size_t len;

	vd_verdict_batch_finish(&q->vb, &buf, &len);
	if (len > 0) {
		if (mnl_socket_sendto(q->nl, buf, len) < 0) {
			q->delta.send_errors++;
			vd_log(VD_LOG_ERROR, "queue %u: sending %u verdicts failed: %s",
			       q->cfg.queue_num, q->vb.npackets, strerror(errno));
		}
		q->delta.verdict_msgs += q->vb.nmsgs;
	}
	vd_verdict_batch_reset(&q->vb);
}

/* Hot path: one packet message to one verdict; no allocation, no syscall
 * (unless the verdict buffer is full, which batch sizing prevents). */
static void handle_packet(struct vd_queue *q, const struct nlmsghdr *nlh)
{
	struct vd_packet *pkt = &q->pkt;
	struct vd_wire_verdict wire;
	struct vd_verdict v;

	if (vd_nfq_message_decode(nlh, pkt) < 0) {
		q->delta.kernel_errors++; /* no packet id: nothing to answer */
		return;
	}
	q->delta.packets++;
	q->delta.bytes += pkt->len;
	if (pkt->parse_error != VD_PARSE_OK)
		q->delta.parse_errors++;
	if (pkt->flags & VD_PACKET_TRUNCATED)
		q->delta.truncated++;

	v = q->cfg.callback(pkt, q->cfg.user);
	if (!vd_wire_verdict_from(v, (pkt->meta & VD_META_MARK) ? pkt->mark : 0, &wire)) {
		/* A verdict the kernel does not know fails closed. */
		q->delta.invalid_verdicts++;
		v = vd_verdict_drop();
		vd_wire_verdict_from(v, 0, &wire);
	}
	count_verdict(&q->delta, v);
	if (vd_verdict_batch_add(&q->vb, pkt->id, &wire) < 0) {
		flush_verdicts(q);
		vd_verdict_batch_add(&q->vb, pkt->id, &wire);
	}
}

static void handle_datagram(struct vd_queue *q, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int remaining = (int)len;

	while (mnl_nlmsg_ok(nlh, remaining)) {
		if (nlh->nlmsg_type == VD_NFQ_MSG_PACKET) {
			handle_packet(q, nlh);
		} else if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
			/* Errors answer verdicts (e.g. ENOENT for an id the kernel
			 * already let go of, after fail-open or a flush). */
			if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*err) && err->error != 0)
				q->delta.kernel_errors++;
		}
		nlh = mnl_nlmsg_next(nlh, &remaining);
	}
}

/* During bind and unbind, queued packets can arrive before the kernel's
 * answer; they are answered at once like any others. */
static void handle_setup_datagram(const void *buf, size_t len, void *data)
{
	struct vd_queue *q = data;

	handle_datagram(q, buf, len);
	flush_verdicts(q);
	stats_publish(q);
}

static struct vd_nfq_io setup_io(struct vd_queue *q)
{
	return (struct vd_nfq_io){ .buf = q->rx, .size = q->slot_size,
				   .other = handle_setup_datagram, .data = q };
}

/* Returns the number of datagrams received, 0 on timeout or a counted error,
 * -1 on a fatal error. */
static int receive_batch(struct vd_queue *q, int flags)
{
	unsigned n = q->cfg.batch_size;
	int ret;

	for (unsigned i = 0; i < n; i++)
		q->msgs[i].msg_hdr.msg_flags = 0;
	if (q->rcu_qsbr)
		vd_rcu_offline();
	ret = recvmmsg(q->fd, q->msgs, n, flags, NULL);
	if (q->rcu_qsbr)
		vd_rcu_online();
	if (ret >= 0)
		return ret;
	switch (errno) {
	case EAGAIN:
	case EINTR:
		return 0;
	case ENOBUFS:
		q->delta.enobufs++;
		return 0;
	case EBADF:
	case ENOTSOCK:
	case EFAULT:
	case EINVAL:
		return -1;
	default:
		q->delta.recv_errors++;
		return 0;
	}
}

/* Hot path: one receive, the batch's packets, one send. */
static int process_batch(struct vd_queue *q, int flags)
{
	int n = receive_batch(q, flags);

	for (int i = 0; i < n; i++) {
		if (q->msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
			q->delta.recv_errors++; /* larger than a slot: cannot be read */
		else
			handle_datagram(q, q->rx + (size_t)i * q->slot_size, q->msgs[i].msg_len);
	}
	if (n > 0) {
		q->delta.batches++;
		if (q->cfg.batch_callback)
			q->cfg.batch_callback((unsigned)n, q->cfg.user);
		flush_verdicts(q);
	}
	stats_publish(q);
	if (q->rcu_qsbr)
		vd_rcu_quiescent();
	return n;
}

int vd_queue_run(struct vd_queue *q)
{
	while (!atomic_load_explicit(&q->stop, memory_order_relaxed)) {
		if (process_batch(q, MSG_WAITFORONE) < 0) {
			vd_log(VD_LOG_ERROR, "queue %u: receive failed: %s", q->cfg.queue_num,
			       strerror(errno));
			return -1;
		}
	}
	/* Answer what already waits in the socket before the caller unbinds. */
	for (int i = 0; i < DRAIN_MAX_BATCHES; i++)
		if (process_batch(q, MSG_DONTWAIT) <= 0)
			break;
	return 0;
}

void vd_queue_stop(struct vd_queue *q)
{
	/* A lock-free atomic store: async-signal-safe. */
	atomic_store_explicit(&q->stop, 1, memory_order_relaxed);
}

void vd_queue_stats(const struct vd_queue *q, struct vd_queue_stats *out)
{
	vd_counters_read((const uint64_t *)&q->stats, (uint64_t *)out, STATS_FIELDS);
}

uint16_t vd_queue_num(const struct vd_queue *q)
{
	return q->cfg.queue_num;
}

void vd_queue_set_rcu_qsbr(struct vd_queue *q, bool on)
{
	q->rcu_qsbr = on;
}

static int config_check(struct vd_queue_config *cfg, char *errbuf)
{
	if (!cfg->callback) {
		vd_errbuf_set(errbuf, "queue %u: no packet callback given", cfg->queue_num);
		errno = EINVAL;
		return -1;
	}
	if (cfg->copy_range == 0 || cfg->copy_range > VD_QUEUE_MAX_COPY_RANGE)
		cfg->copy_range = VD_QUEUE_MAX_COPY_RANGE;
	if (cfg->batch_size == 0)
		cfg->batch_size = DEFAULT_BATCH;
	if (cfg->batch_size > MAX_BATCH) {
		vd_errbuf_set(errbuf, "queue %u: batch size %u is above the maximum %u",
			      cfg->queue_num, cfg->batch_size, MAX_BATCH);
		errno = EINVAL;
		return -1;
	}
	if (cfg->rcvbuf == 0)
		cfg->rcvbuf = DEFAULT_RCVBUF;
	return 0;
}

static int buffers_alloc(struct vd_queue *q)
{
	unsigned n = q->cfg.batch_size;

	q->slot_size = ((q->cfg.copy_range + MSG_OVERHEAD) + 4095) & ~(size_t)4095;
	/* Large enough to be mmap'ed: pages a small packet never touches stay
	 * out of the resident set. */
	q->rx = malloc(q->slot_size * n);
	q->msgs = calloc(n, sizeof(*q->msgs));
	q->iov = calloc(n, sizeof(*q->iov));
	q->vb_buf = malloc(vd_verdict_batch_bufsize(n));
	if (!q->rx || !q->msgs || !q->iov || !q->vb_buf)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		q->iov[i] = (struct iovec){ .iov_base = q->rx + (size_t)i * q->slot_size,
					    .iov_len = q->slot_size };
		q->msgs[i].msg_hdr.msg_iov = &q->iov[i];
		q->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	return vd_verdict_batch_init(&q->vb, q->cfg.queue_num, q->vb_buf, n);
}

static void queue_free(struct vd_queue *q)
{
	if (q->nl)
		mnl_socket_close(q->nl);
	vd_verdict_batch_free(&q->vb);
	free(q->rx);
	free(q->msgs);
	free(q->iov);
	free(q->vb_buf);
	free(q);
}

struct vd_queue *vd_queue_open(const struct vd_queue_config *cfg, char *errbuf)
{
	struct vd_queue *q = aligned_alloc(64, sizeof(*q));
	struct vd_nfq_io io;
	int saved;

	if (!q) {
		vd_errbuf_set(errbuf, "queue %u: out of memory", cfg->queue_num);
		return NULL;
	}
	memset(q, 0, sizeof(*q));
	q->cfg = *cfg;
	if (config_check(&q->cfg, errbuf) < 0)
		goto fail;
	if (buffers_alloc(q) < 0) {
		vd_errbuf_set(errbuf, "queue %u: out of memory for %u receive slots",
			      cfg->queue_num, q->cfg.batch_size);
		errno = ENOMEM;
		goto fail;
	}
	q->nl = vd_nfq_socket_open(q->cfg.queue_num, q->cfg.rcvbuf, errbuf);
	if (!q->nl)
		goto fail;
	q->fd = mnl_socket_get_fd(q->nl);
	io = setup_io(q);
	if (vd_nfq_socket_bind(q->nl, &q->cfg, &io, errbuf) < 0)
		goto fail;
	q->bound = true;
	return q;
fail:
	saved = errno;
	queue_free(q);
	errno = saved;
	return NULL;
}

int vd_queue_close(struct vd_queue *q)
{
	int ret = 0, saved = 0;

	if (!q)
		return 0;
	if (q->bound) {
		struct vd_nfq_io io = setup_io(q);
		ret = vd_nfq_socket_unbind(q->nl, q->cfg.queue_num, &io);
		saved = errno;
	}
	queue_free(q);
	errno = saved;
	return ret;
}
