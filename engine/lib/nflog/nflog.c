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
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <libnetfilter_log/libnetfilter_log.h>

#include <verdict/nflog.h>

#include "counters.h"
#include "export.h"
#include "log.h"
#include "nflog_internal.h"
#include "nflog_message.h"
#include "nl_attr.h"
#include "nl_rx.h"
#include "nl_socket.h"
#include "proc.h"

#define DEFAULT_RCVBUF_MAX (64u << 20)
#define STATS_FIELDS (sizeof(struct vd_nflog_stats) / sizeof(uint64_t))

struct vd_nflog {
	struct vd_nflog_config cfg;
	struct mnl_socket *nl;
	bool bound, seq_started;
	uint32_t next_seq;
	char name[24];           /* "nflog group N", for messages */
	struct vd_nl_rx rx;
	struct vd_packet pkt;
	struct vd_nflog_stats delta;
	struct vd_nflog_stats stats __attribute__((aligned(64)));
};

static void stats_publish(void *owner)
{
	struct vd_nflog *g = owner;

	vd_counters_publish((uint64_t *)&g->stats, (uint64_t *)&g->delta, STATS_FIELDS);
}

static struct nlmsghdr *config_header(char *buf, uint16_t group)
{
	return nflog_nlmsg_put_header(buf, NFULNL_MSG_CONFIG, AF_UNSPEC, group);
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

static void handle_setup_datagram(const void *buf, size_t len, void *data);

static struct vd_nl_io setup_io(struct vd_nflog *g)
{
	return (struct vd_nl_io){ .buf = g->rx.buf, .size = g->rx.slot_size,
				  .other = handle_setup_datagram, .data = g };
}

/* Sends a configuration message; 0 or -1 with errno from the kernel. */
static int config_send(struct vd_nflog *g, struct nlmsghdr *nlh)
{
	struct vd_nl_io io = setup_io(g);
	int ret = vd_nl_socket_request(g->nl, nlh, &io);

	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return 0;
}

static int bind_with(struct vd_nflog *g, uint16_t flags)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const struct vd_nflog_config *c = &g->cfg;
	struct nlmsghdr *nlh = config_header(buf, c->group);

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

static void explain_bind_error(const struct vd_nflog *g, char *errbuf)
{
	unsigned portid = 0;

	/* The kernel says EPERM for someone else's group too: look who has it. */
	if (errno == EPERM)
		errno = vd_proc_log_group_holder(g->cfg.group, &portid) == 0 ? EBUSY : EPERM;
	switch (errno) {
	case EPERM:
		vd_errbuf_set(errbuf, "%s: binding needs CAP_NET_ADMIN: run as root or grant it "
			      "(e.g. setcap cap_net_admin+ep on the program)", g->name);
		break;
	case EBUSY:
		vd_errbuf_set(errbuf, "%s is already bound by another process (netlink port %u "
			      "in /proc/net/netfilter/nfnetlink_log, e.g. ulogd): stop it or use "
			      "another group", g->name, portid);
		break;
	case EOPNOTSUPP:
		vd_errbuf_set(errbuf, "%s: the kernel does not support the flags asked for "
			      "(conntrack needs CONFIG_NETFILTER_NETLINK_GLUE_CT)", g->name);
		break;
	default:
		vd_errbuf_set(errbuf, "%s: bind failed: %s", g->name, strerror(errno));
	}
}

static int group_bind(struct vd_nflog *g, char *errbuf)
{
	uint16_t flags = g->cfg.flags | g->cfg.optional_flags;
	int ret = bind_with(g, flags);

	if (ret < 0 && errno == EAGAIN) /* the kernel just loaded ctnetlink */
		ret = bind_with(g, flags);
	if (ret < 0 && errno == EOPNOTSUPP && (g->cfg.optional_flags & ~g->cfg.flags)) {
		vd_log(VD_LOG_WARN, "%s: the kernel cannot attach conntrack information (no "
		       "CONFIG_NETFILTER_NETLINK_GLUE_CT); going on without", g->name);
		ret = bind_with(g, g->cfg.flags);
	}
	if (ret < 0)
		explain_bind_error(g, errbuf);
	return ret;
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
static void handle_datagram(void *owner, const uint8_t *buf, size_t len, bool truncated)
{
	struct vd_nflog *g = owner;
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	size_t left = len;

	if (truncated) { /* a copy, not a packet: nothing waits for it */
		g->delta.recv_errors++;
		return;
	}
	for (; vd_nl_msg_ok(nlh, left); nlh = vd_nl_msg_next(nlh, &left)) {
		if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_NOOP ||
		    nlh->nlmsg_type == NLMSG_ERROR) /* a late ack */
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

/* Packets logged while the kernel acknowledges a configuration message go
 * to the callback like any others. */
static void handle_setup_datagram(const void *buf, size_t len, void *data)
{
	struct vd_nflog *g = data;

	handle_datagram(g, buf, len, false);
	if (g->cfg.batch_callback)
		g->cfg.batch_callback(1, g->cfg.user);
	stats_publish(g);
}

static void batch_end(void *owner, unsigned n)
{
	struct vd_nflog *g = owner;

	g->delta.batches++;
	if (g->cfg.batch_callback)
		g->cfg.batch_callback(n, g->cfg.user);
}

/* After an overrun: a bigger buffer, up to the limit, and one line. */
static void overrun(void *owner)
{
	struct vd_nflog *g = owner;
	uint64_t now = g->stats.rcvbuf;
	uint64_t next = vd_nl_socket_grow_rcvbuf(g->rx.fd, (unsigned)now, g->cfg.rcvbuf_max);

	g->delta.enobufs++;
	if (next > now) {
		vd_log(VD_LOG_WARN, "%s: overrun, packets lost; receive buffer grown to %llu KiB",
		       g->name, (unsigned long long)(next >> 10));
		__atomic_store_n(&g->stats.rcvbuf, next, __ATOMIC_RELAXED);
	} else if (g->stats.enobufs == 0) {
		vd_log(VD_LOG_WARN, "%s: overrun, packets lost; receive buffer already at its "
		       "maximum (%llu KiB)", g->name, (unsigned long long)(now >> 10));
	}
}

static void recv_error(void *owner, int err)
{
	(void)err;
	((struct vd_nflog *)owner)->delta.recv_errors++;
}

static const struct vd_nl_rx_ops nflog_ops = {
	.datagram = handle_datagram,
	.batch_end = batch_end,
	.overrun = overrun,
	.recv_error = recv_error,
	.turn_end = stats_publish,
};

static int config_check(struct vd_nflog *g, const struct vd_nflog_config *cfg, size_t cfg_size,
			char *errbuf)
{
	snprintf(g->name, sizeof(g->name), "nflog group %u", cfg->group);
	if (vd_abi_copy_in(&g->cfg, sizeof(g->cfg), cfg, cfg_size) < 0) {
		vd_errbuf_set(errbuf, "%s: the program was built against a newer libverdict "
			      "(it sets group settings this library does not know)", g->name);
		return -1;
	}
	if (!g->cfg.callback) {
		vd_errbuf_set(errbuf, "%s: no callback given", g->name);
		errno = EINVAL;
		return -1;
	}
	if (!g->cfg.rcvbuf)
		g->cfg.rcvbuf = VD_NL_RX_DEFAULT_RCVBUF;
	if (!g->cfg.rcvbuf_max)
		g->cfg.rcvbuf_max = DEFAULT_RCVBUF_MAX;
	return vd_nl_rx_batch_check(&g->cfg.batch_size, g->name, errbuf);
}

/* A datagram holds one packet, or a multipart batch up to nlbufsiz. */
static size_t slot_size(const struct vd_nflog_config *c)
{
	size_t size = (c->copy_range ? c->copy_range : 0xffff) + VD_NL_RX_MSG_OVERHEAD;

	return c->nlbufsiz > size ? c->nlbufsiz : size;
}

VD_EXPORT struct vd_nflog *vd_nflog_open_sized(const struct vd_nflog_config *cfg,
					       size_t cfg_size, char *errbuf)
{
	struct vd_nflog *g = aligned_alloc(64, sizeof(*g));
	int err;

	if (!g) {
		vd_errbuf_set(errbuf, "nflog group %u: out of memory", cfg->group);
		return NULL;
	}
	memset(g, 0, sizeof(*g));
	if (config_check(g, cfg, cfg_size, errbuf) < 0)
		goto fail;
	/* ENOBUFS stays on: overruns lose log copies, so they are seen and
	 * answered by growing the buffer. */
	g->nl = vd_nl_socket_open(g->name, g->cfg.rcvbuf, 0, errbuf);
	if (!g->nl)
		goto fail;
	if (vd_nl_rx_init(&g->rx, mnl_socket_get_fd(g->nl), g->cfg.batch_size,
			  slot_size(&g->cfg)) < 0) {
		vd_errbuf_set(errbuf, "%s: out of memory", g->name);
		goto fail;
	}
	g->stats.rcvbuf = g->cfg.rcvbuf;
	if (group_bind(g, errbuf) < 0)
		goto fail;
	g->bound = true;
	return g;
fail:
	err = errno;
	vd_nflog_close(g);
	errno = err;
	return NULL;
}

VD_EXPORT int vd_nflog_run(struct vd_nflog *g)
{
	if (vd_nl_rx_run(&g->rx, &nflog_ops, g) < 0) {
		vd_log(VD_LOG_ERROR, "%s: receive failed: %s", g->name, strerror(errno));
		return -1;
	}
	return 0;
}

VD_EXPORT void vd_nflog_stop(struct vd_nflog *g)
{
	vd_nl_rx_stop(&g->rx);
}

VD_EXPORT void vd_nflog_stats_sized(const struct vd_nflog *g, struct vd_nflog_stats *out,
				    size_t out_size)
{
	struct vd_nflog_stats now;

	vd_counters_read((const uint64_t *)&g->stats, (uint64_t *)&now, STATS_FIELDS);
	vd_abi_copy_out(out, out_size, &now, sizeof(now));
}

VD_EXPORT uint16_t vd_nflog_group(const struct vd_nflog *g)
{
	return g->cfg.group;
}

void vd_nflog_set_rcu_qsbr(struct vd_nflog *g, bool on)
{
	g->rx.rcu_qsbr = on;
}

VD_EXPORT int vd_nflog_close(struct vd_nflog *g)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int ret = 0, err = 0;

	if (!g)
		return 0;
	if (g->bound) {
		struct nlmsghdr *nlh = config_header(buf, g->cfg.group);

		nflog_attr_put_cfg_cmd(nlh, NFULNL_CFG_CMD_UNBIND);
		if (config_send(g, nlh) < 0) {
			ret = -1;
			err = errno;
		}
	}
	if (g->nl)
		mnl_socket_close(g->nl);
	vd_nl_rx_free(&g->rx);
	free(g);
	if (ret < 0)
		errno = err;
	return ret;
}
