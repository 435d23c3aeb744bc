/* queue_config.c - bind, configure and unbind one queue (NFQNL_MSG_CONFIG). */
#include <arpa/inet.h> /* before the linux/ headers: glibc owns struct in_addr */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "log.h"
#include "nl_socket.h"
#include "queue_config.h"
#include "privilege.h"
#include "proc.h"

/* A kernel that refuses the conntrack flag was built without
 * CONFIG_NETFILTER_NETLINK_GLUE_CT, which is also what lets a verdict carry
 * the conntrack attribute that adjusts TCP sequence numbers after a length
 * change (verdict/edit.h refuses those rewrites). */
#define VD_QUEUE_NO_GLUE_CT_NOTE                                                     \
	"; rewrites that change a TCP payload's length are refused, since the kernel "  \
	"lacks CONFIG_NETFILTER_NETLINK_GLUE_CT (the verdict cannot carry the "          \
	"conntrack sequence adjustment)"

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
			      "(e.g. setcap cap_net_admin+ep on the program)", q);
	} else if (err == EPERM && vd_proc_queue_read(NULL, q, &k) == 0 && k.portid != portid) {
		errno = EBUSY;
		vd_errbuf_set(errbuf,
			      "queue %u is already bound by another process (netlink port %u in "
			      "/proc/net/netfilter/nfnetlink_queue): stop it or use another queue number",
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
			   uint32_t flags, const struct vd_nl_io *io)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int ret;

	put_bind_message(buf, cfg, flags);
	ret = vd_nl_socket_request(nl, (struct nlmsghdr *)buf, io);
	if (ret == -EAGAIN) {
		put_bind_message(buf, cfg, flags);
		ret = vd_nl_socket_request(nl, (struct nlmsghdr *)buf, io);
	}
	return ret;
}

int vd_queue_config_bind(struct mnl_socket *nl, const struct vd_queue_config *cfg,
		       const struct vd_nl_io *io, char *errbuf)
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
		uint32_t dropped = attempts[0] & ~tried;

		flag_names(dropped, names, sizeof(names));
		vd_log(VD_LOG_WARN, "queue %u: the kernel does not support the queue flags %s; "
		       "packets will come without that metadata%s", cfg->queue_num, names,
		       (dropped & VD_QUEUE_F_CONNTRACK) ? VD_QUEUE_NO_GLUE_CT_NOTE : "");
	}
	return 0;
}

int vd_queue_config_set_maxlen(struct mnl_socket *nl, uint16_t queue_num, uint32_t maxlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue_num);

	/* nfq_nlmsg_put asks for no acknowledgement (NLM_F_REQUEST alone). */
	nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
	return mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
}

int vd_queue_config_unbind(struct mnl_socket *nl, uint16_t queue_num, const struct vd_nl_io *io)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue_num);
	int ret;

	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_UNBIND);
	ret = vd_nl_socket_request(nl, nlh, io);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return 0;
}
