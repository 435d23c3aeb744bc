/*
 * nfq_socket.h - the netlink socket of one queue: open, bind and configure,
 * unbind. Set-up path only; the hot path (receive, send) lives in queue.c.
 */
#ifndef VD_NFQ_SOCKET_H
#define VD_NFQ_SOCKET_H

#include <stddef.h>
#include <stdint.h>

#include <verdict/queue.h>

struct mnl_socket;

/* Receives datagrams that are not the awaited acknowledgement: packets the
 * kernel queued while a configuration message was in flight. They must get
 * verdicts like any other. */
typedef void (*vd_nfq_datagram_cb)(const void *buf, size_t len, void *data);

/* Scratch space and the hand-off for datagrams that arrive during set-up. */
struct vd_nfq_io {
	void *buf;
	size_t size;
	vd_nfq_datagram_cb other;
	void *data;
};

/* Opens a NETLINK_NETFILTER socket with NETLINK_NO_ENOBUFS, a receive buffer
 * of rcvbuf bytes (SO_RCVBUFFORCE, else SO_RCVBUF) and a 100 ms receive
 * timeout so that a stop request is seen. NULL with errno and errbuf set. */
struct mnl_socket *vd_nfq_socket_open(uint16_t queue_num, unsigned rcvbuf, char *errbuf);

/* Binds cfg->queue_num and sets copy mode and range, maxlen and the flags in
 * one message, then waits for the kernel's answer. Returns 0; -1 with errno
 * and errbuf naming the cause (EPERM: no CAP_NET_ADMIN; EBUSY: another
 * process holds the queue; EOPNOTSUPP: a flag the kernel lacks). */
int vd_nfq_socket_bind(struct mnl_socket *nl, const struct vd_queue_config *cfg,
		       const struct vd_nfq_io *io, char *errbuf);

/* Unbinds queue_num. Returns 0 or -1 with errno. */
int vd_nfq_socket_unbind(struct mnl_socket *nl, uint16_t queue_num, const struct vd_nfq_io *io);

#endif
