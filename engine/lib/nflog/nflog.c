/*
 * nflog.c - one NFLOG group: socket set-up with libnetfilter_log's
 * nflog_nlmsg_* helpers on libmnl, and the receive loop.
 *
 * Unlike a queue, a group waits for nothing: each datagram (possibly a
 * multipart batch of several packet messages when the threshold is above 1)
 * is decoded and handed to the callback, and that is all. The socket keeps
 * ENOBUFS reporting on (no NETLINK_NO_ENOBUFS) so that overruns are seen,
 * counted, and answered by growing the receive buffer.
 */
#define _GNU_SOURCE /* recvmmsg */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <libnetfilter_log/libnetfilter_log.h>

#include <verdict/nflog.h>

#include "counters.h"
#include "log.h"
#include "nflog_internal.h"
#include "nflog_message.h"
#include "proc.h"
#include "rcu.h"

#define DEFAULT_BATCH 64
#define MAX_BATCH 1024
#define DEFAULT_RCVBUF (8u << 20)
#define DEFAULT_RCVBUF_MAX (64u << 20)
#define MSG_OVERHEAD 4096
#define DRAIN_MAX_BATCHES 256
#define STATS_FIELDS (sizeof(struct vd_nflog_stats) / sizeof(uint64_t))

struct vd_nflog {
	struct vd_nflog_config cfg;
	struct mnl_socket *nl;
	int fd;
	bool bound, rcu_qsbr, seq_started;
	uint32_t next_seq;
	size_t slot_size;
	uint8_t *rx;
	struct mmsghdr *msgs;
	struct iovec *iov;
	struct vd_packet pkt;
	struct vd_nflog_stats delta;
	atomic_int stop;
	struct vd_nflog_stats stats __attribute__((aligned(64)));
};

static void stats_publish(struct vd_nflog *g)
{
	vd_counters_publish((uint64_t *)&g->stats, (uint64_t *)&g->delta, STATS_FIELDS);
}

static int set_rcvbuf(int fd, unsigned bytes)
{
	int v = (int)bytes;

	/* FORCE passes rmem_max with CAP_NET_ADMIN; fall back for the rest. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == 0)
		return 0;
	return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

/* The acknowledgement of message seq in one datagram: 1 when found (errno
 * set from it, 0 for success), 0 when the datagram holds something else. */
static int find_ack(const void *buf, size_t len, uint32_t seq, int *error)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

		if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq != seq ||
		    mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
			continue;
		*error = -e->error;
		return 1;
	}
	return 0;
}

/* Sends one configuration message and waits for its acknowledgement.
 * Packets logged meanwhile are skipped: only the ack with our seq counts.
 * Returns 0 or -1 with errno from the kernel. */
static int config_send(struct vd_nflog *g, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = nlh->nlmsg_seq;
	int error = 0;

	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(g->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (int tries = 0; tries < 100000; tries++) {
		ssize_t n = recv(g->fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == ENOBUFS)
			continue; /* logged packets overran us; the ack still comes */
		if (n < 0)
			return -1;
		if (find_ack(buf, (size_t)n, seq, &error)) {
			errno = error;
			return error ? -1 : 0;
		}
	}
	errno = ETIMEDOUT;
	return -1;
}

static struct nlmsghdr *config_header(char *buf, uint16_t group, uint32_t seq)
{
	struct nlmsghdr *nlh = nflog_nlmsg_put_header(buf, NFULNL_MSG_CONFIG, AF_UNSPEC, group);

	nlh->nlmsg_seq = seq;
	return nlh;
}

/* enum vd_nflog_copy (packet first, so that 0 is the useful default) to
 * NFULNL_COPY_*. */
static uint8_t kernel_copy_mode(uint8_t mode)
{
	switch (mode) {
	case VD_NFLOG_COPY_META: return NFULNL_COPY_META;
	case VD_NFLOG_COPY_NONE: return NFULNL_COPY_NONE;
	default: return NFULNL_COPY_PACKET;
	}
}

static int bind_with(struct vd_nflog *g, uint16_t flags)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const struct vd_nflog_config *c = &g->cfg;
	struct nlmsghdr *nlh = config_header(buf, c->group, 1);

	/* Everything in one message: the kernel applies the command first, so
	 * no packet is logged with the defaults between bind and settings. */
	nflog_attr_put_cfg_cmd(nlh, NFULNL_CFG_CMD_BIND);
	nflog_attr_put_cfg_mode(nlh, kernel_copy_mode(c->copy_mode),
				c->copy_range ? c->copy_range : 0xffff);
	if (c->nlbufsiz)
		mnl_attr_put_u32(nlh, NFULA_CFG_NLBUFSIZ, htonl(c->nlbufsiz));
	if (c->timeout_cs)
		mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(c->timeout_cs));
	/* Threshold 1 unless asked otherwise: the kernel's default (100) holds
	 * packets for up to the flush timeout, and loses them at unbind. */
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(c->threshold ? c->threshold : 1));
	mnl_attr_put_u16(nlh, NFULA_CFG_FLAGS, htons(flags));
	return config_send(g, nlh);
}

static int group_bind(struct vd_nflog *g, char *errbuf)
{
	unsigned portid = 0;
	uint16_t group = g->cfg.group;
	uint16_t flags = g->cfg.flags | g->cfg.optional_flags;
	int ret = bind_with(g, flags);

	if (ret < 0 && errno == EAGAIN) /* the kernel just loaded ctnetlink */
		ret = bind_with(g, flags);
	if (ret < 0 && errno == EOPNOTSUPP && (g->cfg.optional_flags & ~g->cfg.flags)) {
		vd_log(VD_LOG_WARN, "nflog group %u: the kernel cannot attach conntrack "
		       "information (no CONFIG_NETFILTER_NETLINK_GLUE_CT); going on without",
		       group);
		ret = bind_with(g, g->cfg.flags);
	}
	if (ret == 0)
		return 0;
	/* The kernel says EPERM for someone else's group too: look who has it. */
	if (errno == EPERM)
		errno = vd_proc_log_group_holder(group, &portid) == 0 ? EBUSY : EPERM;
	switch (errno) {
	case EPERM:
		vd_errbuf_set(errbuf, "nflog group %u: binding needs CAP_NET_ADMIN: run as root "
			      "or grant it (setcap cap_net_admin+ep verdictd)", group);
		break;
	case EBUSY:
		if (portid) {
			vd_errbuf_set(errbuf, "nflog group %u is already bound by another process "
				      "(netlink port %u in /proc/net/netfilter/nfnetlink_log, "
				      "e.g. ulogd): stop it or use another group", group, portid);
			break;
		}
		vd_errbuf_set(errbuf, "nflog group %u is already bound by another process "
			      "(e.g. ulogd): stop it or use another group", group);
		break;
	case EOPNOTSUPP:
		vd_errbuf_set(errbuf, "nflog group %u: the kernel does not support the flags "
			      "asked for (conntrack needs CONFIG_NETFILTER_NETLINK_GLUE_CT)", group);
		break;
	default:
		vd_errbuf_set(errbuf, "nflog group %u: bind failed: %s", group, strerror(errno));
	}
	return -1;
}

static int alloc_rx(struct vd_nflog *g)
{
	unsigned n = g->cfg.batch_size;
	size_t range = g->cfg.copy_range ? g->cfg.copy_range : 0xffff;

	/* A datagram holds one packet, or a multipart batch up to nlbufsiz. */
	g->slot_size = range + MSG_OVERHEAD;
	if (g->cfg.nlbufsiz > g->slot_size)
		g->slot_size = g->cfg.nlbufsiz;
	g->slot_size = (g->slot_size + 63) & ~(size_t)63; /* netlink headers are 4-aligned */
	g->rx = malloc(n * g->slot_size);
	g->msgs = calloc(n, sizeof(*g->msgs));
	g->iov = calloc(n, sizeof(*g->iov));
	if (!g->rx || !g->msgs || !g->iov)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		g->iov[i] = (struct iovec){ g->rx + (size_t)i * g->slot_size, g->slot_size };
		g->msgs[i].msg_hdr.msg_iov = &g->iov[i];
		g->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

struct vd_nflog *vd_nflog_open(const struct vd_nflog_config *cfg, char *errbuf)
{
	struct vd_nflog *g = calloc(1, sizeof(*g));
	struct timeval tv = { .tv_usec = 100000 }; /* see a stop request within 100 ms */
	int err;

	if (!g) {
		vd_errbuf_set(errbuf, "nflog group %u: out of memory", cfg->group);
		return NULL;
	}
	g->cfg = *cfg;
	if (!cfg->callback) {
		vd_errbuf_set(errbuf, "nflog group %u: no callback", cfg->group);
		errno = EINVAL;
		goto fail;
	}
	if (!g->cfg.batch_size)
		g->cfg.batch_size = DEFAULT_BATCH;
	if (g->cfg.batch_size > MAX_BATCH)
		g->cfg.batch_size = MAX_BATCH;
	if (!g->cfg.rcvbuf)
		g->cfg.rcvbuf = DEFAULT_RCVBUF;
	if (!g->cfg.rcvbuf_max)
		g->cfg.rcvbuf_max = DEFAULT_RCVBUF_MAX;
	if (alloc_rx(g) < 0) {
		vd_errbuf_set(errbuf, "nflog group %u: out of memory", cfg->group);
		goto fail;
	}
	g->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!g->nl || mnl_socket_bind(g->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		vd_errbuf_set(errbuf, "nflog group %u: netlink socket: %s", cfg->group,
			      strerror(errno));
		goto fail;
	}
	g->fd = mnl_socket_get_fd(g->nl);
	set_rcvbuf(g->fd, g->cfg.rcvbuf);
	setsockopt(g->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (group_bind(g, errbuf) < 0)
		goto fail;
	g->bound = true;
	g->stats.rcvbuf = g->cfg.rcvbuf;
	return g;
fail:
	err = errno;
	vd_nflog_close(g);
	errno = err;
	return NULL;
}

/* Counts packets that sequence numbers say were never delivered. */
static void track_seq(struct vd_nflog *g, const struct vd_packet *pkt)
{
	if (!(pkt->meta & VD_META_SEQ))
		return;
	if (g->seq_started && pkt->seq != g->next_seq)
		g->delta.seq_gaps += (uint32_t)(pkt->seq - g->next_seq);
	g->seq_started = true;
	g->next_seq = pkt->seq + 1;
}

/* Hot path: every packet message of one datagram to the callback. */
static void handle_datagram(struct vd_nflog *g, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_NOOP)
			continue;
		if (nlh->nlmsg_type == NLMSG_ERROR) /* a late ack */
			continue;
		if (vd_nflog_message_decode(nlh, &g->pkt) < 0) {
			g->delta.recv_errors++;
			continue;
		}
		g->delta.packets++;
		g->delta.bytes += g->pkt.caplen;
		if (g->pkt.parse_error && g->pkt.caplen)
			g->delta.parse_errors++;
		track_seq(g, &g->pkt);
		g->cfg.callback(&g->pkt, g->cfg.user);
	}
}

/* After an overrun: a bigger buffer, up to the limit, and one line. */
static void grow_rcvbuf(struct vd_nflog *g)
{
	uint64_t now = g->stats.rcvbuf;
	uint64_t next = now * 2 > g->cfg.rcvbuf_max ? g->cfg.rcvbuf_max : now * 2;

	g->delta.enobufs++;
	if (next > now && set_rcvbuf(g->fd, (unsigned)next) == 0) {
		vd_log(VD_LOG_WARN, "nflog group %u: overrun, packets lost; receive buffer "
		       "grown to %llu KiB", g->cfg.group, (unsigned long long)(next >> 10));
		__atomic_store_n(&g->stats.rcvbuf, next, __ATOMIC_RELAXED);
	} else if (g->stats.enobufs == 0) {
		vd_log(VD_LOG_WARN, "nflog group %u: overrun, packets lost; receive buffer "
		       "already at its maximum (%llu KiB)", g->cfg.group,
		       (unsigned long long)(now >> 10));
	}
}

static int process_batch(struct vd_nflog *g, int flags)
{
	unsigned n = g->cfg.batch_size;
	int ret;

	if (g->rcu_qsbr)
		vd_rcu_offline();
	ret = recvmmsg(g->fd, g->msgs, n, flags, NULL);
	if (g->rcu_qsbr)
		vd_rcu_online();
	if (ret < 0) {
		if (errno == ENOBUFS)
			grow_rcvbuf(g);
		else if (errno == EBADF || errno == ENOTSOCK || errno == EFAULT || errno == EINVAL)
			return -1;
		else if (errno != EAGAIN && errno != EINTR)
			g->delta.recv_errors++;
		ret = 0;
	}
	for (int i = 0; i < ret; i++) {
		if (g->msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
			g->delta.recv_errors++;
		else
			handle_datagram(g, g->rx + (size_t)i * g->slot_size, g->msgs[i].msg_len);
	}
	if (ret > 0) {
		g->delta.batches++;
		if (g->cfg.batch_callback)
			g->cfg.batch_callback((unsigned)ret, g->cfg.user);
	}
	stats_publish(g);
	if (g->rcu_qsbr)
		vd_rcu_quiescent();
	return ret;
}

int vd_nflog_run(struct vd_nflog *g)
{
	while (!atomic_load_explicit(&g->stop, memory_order_relaxed)) {
		if (process_batch(g, MSG_WAITFORONE) < 0) {
			vd_log(VD_LOG_ERROR, "nflog group %u: receive failed: %s", g->cfg.group,
			       strerror(errno));
			return -1;
		}
	}
	for (int i = 0; i < DRAIN_MAX_BATCHES; i++)
		if (process_batch(g, MSG_DONTWAIT) <= 0)
			break;
	return 0;
}

void vd_nflog_stop(struct vd_nflog *g)
{
	atomic_store_explicit(&g->stop, 1, memory_order_relaxed);
}

void vd_nflog_stats(const struct vd_nflog *g, struct vd_nflog_stats *out)
{
	vd_counters_read((const uint64_t *)&g->stats, (uint64_t *)out, STATS_FIELDS);
}

uint16_t vd_nflog_group(const struct vd_nflog *g)
{
	return g->cfg.group;
}

void vd_nflog_set_rcu_qsbr(struct vd_nflog *g, bool on)
{
	g->rcu_qsbr = on;
}

int vd_nflog_close(struct vd_nflog *g)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int ret = 0, err = 0;

	if (!g)
		return 0;
	if (g->bound) {
		struct nlmsghdr *nlh = config_header(buf, g->cfg.group, 2);

		nflog_attr_put_cfg_cmd(nlh, NFULNL_CFG_CMD_UNBIND);
		if (config_send(g, nlh) < 0) {
			ret = -1;
			err = errno;
		}
	}
	if (g->nl)
		mnl_socket_close(g->nl);
	free(g->rx);
	free(g->msgs);
	free(g->iov);
	free(g);
	if (ret < 0)
		errno = err;
	return ret;
}
