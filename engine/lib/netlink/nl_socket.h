/*
 * nl_socket.h - the NETLINK_NETFILTER socket every queue and log group uses:
 * open it, size its receive buffer, and send configuration requests that
 * wait for the kernel's acknowledgement with a deadline.
 *
 * One layer for NFQUEUE and NFLOG: both are nfnetlink subsystems over the
 * same kind of socket, so opening, sizing, acknowledgements and the
 * datagrams that arrive during set-up are handled here once. Set-up path
 * only; the receive loop is nl_rx.h.
 */
#ifndef VD_NL_SOCKET_H
#define VD_NL_SOCKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct iovec;
struct mnl_socket;
struct nlmsghdr;

/* vd_nl_socket_open flags */
enum vd_nl_socket_flag {
	/* Receive overruns are not reported (NETLINK_NO_ENOBUFS): for queues,
	 * whose kernel counts them (user_dropped) and whose packets are
	 * answered, not lost. Log groups keep ENOBUFS to notice and grow. */
	VD_NL_NO_ENOBUFS = 1u << 0,
};

/* Datagrams that are not the awaited acknowledgement: packets the kernel
 * queued or logged while a configuration message was in flight. They are
 * handled like any others (a queued packet must get its verdict). */
typedef void (*vd_nl_datagram_cb)(const void *buf, size_t len, void *data);

/* Scratch space for receiving during set-up, and where other datagrams go. */
struct vd_nl_io {
	void *buf;
	size_t size;
	vd_nl_datagram_cb other; /* may be NULL: other datagrams are dropped */
	void *data;
};

/* Opens a close-on-exec NETLINK_NETFILTER socket bound to an automatic
 * port, with a receive buffer of rcvbuf bytes and a 100 ms receive timeout
 * so that a stop request is seen. what ("queue 3", "nflog group 5") starts
 * every error message. NULL with errno and errbuf (VD_ERRBUF_SIZE) set. */
struct mnl_socket *vd_nl_socket_open(const char *what, unsigned rcvbuf, unsigned flags,
				     char *errbuf);

/* Sets the receive buffer: SO_RCVBUFFORCE (passes net.core.rmem_max, needs
 * CAP_NET_ADMIN, which binding needs anyway), else SO_RCVBUF (capped).
 * Returns 0 or -1 with errno. */
int vd_nl_socket_set_rcvbuf(int fd, unsigned bytes);

/* One growth step after packets were lost to a full receive buffer: doubles
 * `now` up to max and sets it. Returns the new size, or now when already at
 * max or when the kernel refused (both the queues and the log groups grow
 * this way). */
unsigned vd_nl_socket_grow_rcvbuf(int fd, unsigned now, unsigned max);

/* Raises the send buffer like vd_nl_socket_set_rcvbuf. netlink_sendmsg()
 * refuses a send larger than the buffer less 32 bytes (EMSGSIZE), so a queue
 * that sends rewritten packets needs more than the default. Returns 0 or -1
 * with errno. */
int vd_nl_socket_set_sndbuf(int fd, unsigned bytes);

/* The largest send the kernel takes on fd now: its send buffer (as the
 * kernel counts it, doubled) less 32 bytes. Returns 0 when it cannot be read. */
size_t vd_nl_socket_send_limit(int fd);

/* Sends the niov buffers of iov as one datagram to the kernel: one sendmsg,
 * so that a message may be split over buffers (a verdict's header in one, the
 * packet it carries in another, read in place). Returns the bytes sent, or
 * -1 with errno. Hot path: one syscall. */
ssize_t vd_nl_socket_sendv(struct mnl_socket *nl, const struct iovec *iov, unsigned niov);

/* Sends one configuration message with NLM_F_ACK and a fresh sequence
 * number, and waits up to VD_NL_ACK_TIMEOUT_MS for its answer, handing
 * every other datagram to io->other. Returns 0, the kernel's negative
 * errno, or -ETIMEDOUT. */
int vd_nl_socket_request(struct mnl_socket *nl, struct nlmsghdr *nlh, const struct vd_nl_io *io);

#define VD_NL_ACK_TIMEOUT_MS 3000

#endif
