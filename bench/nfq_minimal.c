/*
 * nfq_minimal.c - the honest reference: the simplest correct NFQUEUE accept
 * loop on libmnl, as the kernel's selftest consumer (nf_queue.c) and most
 * binding users write it. One recvfrom and one NFQNL_MSG_VERDICT sendto per
 * packet, no batching, no threads.
 *
 * It is deliberately naive: the benchmark compares verdictd to what a user
 * gets from a thin binding. It gets the same socket settings as verdictd
 * (NETLINK_NO_ENOBUFS, an 8 MiB receive buffer) so that only the loop
 * differs.
 *
 *   vd-nfq-minimal --queue N [--copy-range N]
 *
 * SIGINT/SIGTERM: prints packets=N on stderr and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int send_config(struct mnl_socket *nl, uint16_t queue, uint32_t range)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);

	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)range);
	return mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
}

static int accept_packet(struct mnl_socket *nl, const struct nlmsghdr *in, uint16_t queue)
{
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	const struct nfqnl_msg_packet_hdr *ph;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	if (nfq_nlmsg_parse(in, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return 0;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, queue);
	nfq_nlmsg_verdict_put(nlh, (int)ntohl(ph->packet_id), NF_ACCEPT);
	return mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 1;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = { { "queue", 1, NULL, 'q' },
					       { "copy-range", 1, NULL, 'c' },
					       { NULL, 0, NULL, 0 } };
	static char buf[0xffff + 4096];
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long packets = 0, queue = 0, range = 0xffff;
	int one = 1, size = 8 << 20, c;
	struct mnl_socket *nl;

	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c == 'q')
			queue = strtoul(optarg, NULL, 10);
		else if (c == 'c')
			range = strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("vd-nfq-minimal: netlink socket");
		return 1;
	}
	mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send_config(nl, (uint16_t)queue, (uint32_t)range) < 0) {
		perror("vd-nfq-minimal: bind queue");
		return 1;
	}
	while (!stop) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

		if (n < 0)
			continue; /* timeout (to see the signal), EINTR, ENOBUFS */
		if (nlh->nlmsg_type == ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET) &&
		    accept_packet(nl, nlh, (uint16_t)queue) > 0)
			packets++;
	}
	fprintf(stderr, "packets=%lu\n", packets);
	mnl_socket_close(nl);
	return 0;
}
