/*
 * pktb_mangler.c - the reference packet mangler: what a libnetfilter_queue
 * user writes to rewrite packets today, on the library's own helpers. Per
 * packet: one recvfrom, pktb_alloc (a copy of the packet), nfq_udp_mangle_ipv4
 * writing 4 bytes of the UDP payload (it recomputes the UDP checksum over the
 * whole datagram and the IPv4 header checksum), nfq_nlmsg_verdict_put_pkt
 * (a second copy, into the verdict) and one sendto. IPv4 UDP only.
 *
 * The benchmark rows compare verdictd's rewriting with it, as nfq_minimal.c
 * is the reference for plain verdicts; socket settings are the same as
 * there so that only the loop differs.
 *
 *   vd-pktb-mangler --queue N [--offset BYTE]
 *
 * --offset: where in the UDP payload the 4 bytes go (default 32, past the
 * fields vd-udpgen reads). SIGINT/SIGTERM: prints packets=N mangled=M on
 * stderr and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/ip.h>
#include <netinet/udp.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <libnetfilter_queue/libnetfilter_queue_udp.h>
#include <libnetfilter_queue/pktbuff.h>
#include <libnetfilter_queue/libnetfilter_queue_ipv4.h>

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

static unsigned long mangled;

/* The verdict for one packet, with the packet rewritten when it is IPv4 UDP
 * with room for the 4 bytes at offset. */
static int mangle_packet(struct mnl_socket *nl, const struct nlmsghdr *in, uint16_t queue,
			 unsigned offset)
{
	static char out[0xffff + 4096];
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	const struct nfqnl_msg_packet_hdr *ph;
	struct pkt_buff *pb = NULL;
	struct nlmsghdr *nlh;
	struct iphdr *ip;
	struct udphdr *udp;
	int ret;

	if (nfq_nlmsg_parse(in, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return 0;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	nlh = nfq_nlmsg_put(out, NFQNL_MSG_VERDICT, queue);
	nfq_nlmsg_verdict_put(nlh, (int)ntohl(ph->packet_id), NF_ACCEPT);
	if (attr[NFQA_PAYLOAD])
		pb = pktb_alloc(AF_INET, mnl_attr_get_payload(attr[NFQA_PAYLOAD]),
				mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]), 0);
	if (pb && (ip = nfq_ip_get_hdr(pb)) && ip->protocol == IPPROTO_UDP &&
	    nfq_ip_set_transport_header(pb, ip) == 0 && (udp = nfq_udp_get_hdr(pb)) &&
	    nfq_udp_get_payload_len(udp, pb) >= offset + 4 &&
	    nfq_udp_mangle_ipv4(pb, offset, 4, "VDRW", 4)) {
		nfq_nlmsg_verdict_put_pkt(nlh, pktb_data(pb), pktb_len(pb));
		mangled++;
	}
	ret = mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 1;
	if (pb)
		pktb_free(pb);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = { { "queue", 1, NULL, 'q' },
					       { "offset", 1, NULL, 'o' },
					       { NULL, 0, NULL, 0 } };
	static char buf[0xffff + 4096];
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long packets = 0, queue = 0, offset = 32;
	int one = 1, size = 8 << 20, c;
	struct mnl_socket *nl;

	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c == 'q')
			queue = strtoul(optarg, NULL, 10);
		else if (c == 'o')
			offset = strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("vd-pktb-mangler: netlink socket");
		return 1;
	}
	mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send_config(nl, (uint16_t)queue, 0xffff) < 0) {
		perror("vd-pktb-mangler: bind queue");
		return 1;
	}
	while (!stop) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

		if (n < 0)
			continue; /* timeout (to see the signal), EINTR, ENOBUFS */
		if (nlh->nlmsg_type == ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET) &&
		    mangle_packet(nl, nlh, (uint16_t)queue, (unsigned)offset) > 0)
			packets++;
	}
	fprintf(stderr, "packets=%lu mangled=%lu\n", packets, mangled);
	mnl_socket_close(nl);
	return 0;
}
