/* nfq_socket.c - set up and tear down the netlink socket of one queue. */
#include <arpa/inet.h> /* before the linux/ headers: glibc owns struct in_addr */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "log.h"
#include "nfq_socket.h"
#include "privilege.h"
#include "proc.h"

/* How long the kernel may take to answer a configuration message. */
#define ACK_TIMEOUT_MS 3000

static void set_rcvbuf(struct mnl_socket *nl, uint16_t queue_num, unsigned rcvbuf)
{
	int fd = mnl_socket_get_fd(nl);
	int size = (int)rcvbuf;

	/* SO_RCVBUFFORCE passes net.core.rmem_max but needs CAP_NET_ADMIN,
	 * which binding needs anyway; without it the capped size still works. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) == 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) != 0)
		vd_log(VD_LOG_WARN, "queue %u: cannot set the receive buffer to %u bytes: %s",
		       queue_num, rcvbuf, strerror(errno));
}

struct mnl_socket *vd_nfq_socket_open(uint16_t queue_num, unsigned rcvbuf, char *errbuf)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100 * 1000 };
	struct mnl_socket *nl;
	int one = 1;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl) {
		vd_errbuf_set(errbuf, "queue %u: cannot open a netfilter netlink socket: %s",
			      queue_num, strerror(errno));
		return NULL;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		vd_errbuf_set(errbuf, "queue %u: cannot bind the netlink socket: %s", queue_num,
			      strerror(errno));
		goto fail;
	}
	/* Overruns are counted by the kernel (user_dropped); an ENOBUFS error
	 * would only interrupt the receive loop. */
	mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	set_rcvbuf(nl, queue_num, rcvbuf);
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
		vd_errbuf_set(errbuf, "queue %u: cannot set a receive timeout: %s", queue_num,
			      strerror(errno));
		goto fail;
	}
	return nl;
fail:
	{
		int saved = errno;
		mnl_socket_close(nl);
		errno = saved;
	}
	return NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Returns the kernel's answer to seq (0 or a negative errno), or -ETIMEDOUT.
 * Datagrams that are not that answer go to io->other. */
static int await_ack(struct mnl_socket *nl, uint32_t seq, const struct vd_nfq_io *io)
{
	int64_t deadline = now_ms() + ACK_TIMEOUT_MS;

	while (now_ms() < deadline) {
		const struct nlmsghdr *nlh = io->buf;
		ssize_t n = mnl_socket_recvfrom(nl, io->buf, io->size);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ENOBUFS)
				continue;
			return -errno;
		}
		if (mnl_nlmsg_ok(nlh, (int)n) && nlh->nlmsg_type == NLMSG_ERROR &&
		    nlh->nlmsg_seq == seq) {
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
			if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err))
				return -EBADMSG;
			return err->error;
		}
		if (io->other)
			io->other(io->buf, (size_t)n, io->data);
	}
	return -ETIMEDOUT;
}

/* Sends one configuration message and waits for its answer. */
static int request(struct mnl_socket *nl, struct nlmsghdr *nlh, const struct vd_nfq_io *io)
{
	static uint32_t next_seq;
	uint32_t seq = __atomic_add_fetch(&next_seq, 1, __ATOMIC_RELAXED) + (uint32_t)time(NULL);

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return await_ack(nl, seq, io);
}

static void put_bind_message(char *buf, const struct vd_queue_config *cfg, uint32_t flags)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, cfg->queue_num);
	uint32_t all = VD_QUEUE_F_FAIL_OPEN | VD_QUEUE_F_CONNTRACK | VD_QUEUE_F_GSO |
		       VD_QUEUE_F_UID_GID | VD_QUEUE_F_SECCTX;

	/* One message: the kernel checks the flags before it binds, and packets
	 * flow only once the copy mode is set, so nothing is dropped in between
	 * as it would be with separate bind and params messages. */
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)cfg->copy_range);
	if (cfg->maxlen)
		nfq_nlmsg_cfg_put_qmaxlen(nlh, cfg->maxlen);
	/* The enum vd_queue_flag bits equal the kernel's NFQA_CFG_F_* bits. */
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags & all));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(all));
}

static void flag_names(uint32_t flags, char *buf, size_t size)
{
	static const char *const names[] = { "fail-open", "conntrack", "gso", "uid-gid", "secctx" };
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & (1u << i))
			off += (size_t)snprintf(buf + off, off < size ? size - off : 0, "%s%s",
						off ? ", " : "", names[i]);
}

static void explain_bind_error(int err, const struct vd_queue_config *cfg, uint32_t portid,
			       char *errbuf)
{
	struct vd_kernel_queue_stats k;
	uint16_t q = cfg->queue_num;
	char flags[96];

	errno = err;
	if (err == EPERM && !vd_privilege_has_net_admin()) {
		vd_errbuf_set(errbuf,
			      "queue %u: binding needs CAP_NET_ADMIN: run as root or grant it "
			      "(setcap cap_net_admin+ep verdictd)", q);
	} else if (err == EPERM && vd_proc_queue_read(NULL, q, &k) == 0 && k.portid != portid) {
		errno = EBUSY;
		vd_errbuf_set(errbuf,
			      "queue %u is already bound by another process (netlink port %u in "
			      "/proc/net/netfilter/nfnetlink_queue): stop it or use another --queue",
			      q, k.portid);
	} else if (err == EOPNOTSUPP) {
		flag_names(cfg->flags, flags, sizeof(flags));
		vd_errbuf_set(errbuf,
			      "queue %u: the kernel does not support the queue flags %s "
			      "(conntrack needs nf_conntrack_netlink, secctx needs SECMARK)",
			      q, flags[0] ? flags : "(none)");
	} else {
		vd_errbuf_set(errbuf, "queue %u: the kernel refused to bind it: %s", q,
			      strerror(err));
	}
}

/* Binds with the given flags; retries once when the kernel just loaded
 * nf_conntrack_netlink for the conntrack flag and asks to be asked again. */
static int bind_with_flags(struct mnl_socket *nl, const struct vd_queue_config *cfg,
			   uint32_t flags, const struct vd_nfq_io *io)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int ret;

	put_bind_message(buf, cfg, flags);
	ret = request(nl, (struct nlmsghdr *)buf, io);
	if (ret == -EAGAIN) {
		put_bind_message(buf, cfg, flags);
		ret = request(nl, (struct nlmsghdr *)buf, io);
	}
	return ret;
}

int vd_nfq_socket_bind(struct mnl_socket *nl, const struct vd_queue_config *cfg,
		       const struct vd_nfq_io *io, char *errbuf)
{
	/* Optional flags go first, conntrack the first to go: it is the one
	 * kernels most often lack. EOPNOTSUPP does not say which flag. */
	const uint32_t attempts[] = {
		cfg->flags | cfg->optional_flags,
		cfg->flags | (cfg->optional_flags & ~(uint32_t)VD_QUEUE_F_CONNTRACK),
		cfg->flags,
	};
	uint32_t tried = ~0u;
	char names[96];
	int ret = -EOPNOTSUPP;

	for (size_t i = 0; i < 3 && ret == -EOPNOTSUPP; i++) {
		if (attempts[i] == tried)
			continue;
		tried = attempts[i];
		ret = bind_with_flags(nl, cfg, tried, io);
	}
	if (ret < 0) {
		explain_bind_error(-ret, cfg, mnl_socket_get_portid(nl), errbuf);
		return -1;
	}
	/* Every queue of a process meets the same kernel: say it once. */
	static bool warned;
	if (tried != attempts[0] && !__atomic_exchange_n(&warned, true, __ATOMIC_RELAXED)) {
		flag_names(attempts[0] & ~tried, names, sizeof(names));
		vd_log(VD_LOG_WARN, "queue %u: the kernel does not support the queue flags %s; "
		       "packets will come without that metadata", cfg->queue_num, names);
	}
	return 0;
}

int vd_nfq_socket_unbind(struct mnl_socket *nl, uint16_t queue_num, const struct vd_nfq_io *io)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue_num);
	int ret;

	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_UNBIND);
	ret = request(nl, nlh, io);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return 0;
}
