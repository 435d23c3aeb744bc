/* nl_socket.c - open netfilter netlink sockets and wait for acknowledgements. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <libmnl/libmnl.h>

#include "log.h"
#include "nl_attr.h"
#include "nl_socket.h"

int vd_nl_socket_set_rcvbuf(int fd, unsigned bytes)
{
	int size = (int)bytes;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) == 0)
		return 0;
	return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

unsigned vd_nl_socket_grow_rcvbuf(int fd, unsigned now, unsigned max)
{
	unsigned next = now > max / 2 ? max : now * 2;

	if (next <= now || vd_nl_socket_set_rcvbuf(fd, next) < 0)
		return now;
	return next;
}

int vd_nl_socket_set_sndbuf(int fd, unsigned bytes)
{
	int size = (int)bytes;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) == 0)
		return 0;
	return setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

size_t vd_nl_socket_send_limit(int fd)
{
	int size = 0;
	socklen_t len = sizeof(size);

	/* The 32 bytes are netlink_sendmsg()'s own margin (sk_sndbuf - 32). */
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len) != 0 || size <= 32)
		return 0;
	return (size_t)size - 32;
}

ssize_t vd_nl_socket_sendv(struct mnl_socket *nl, const struct iovec *iov, unsigned niov)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct msghdr msg = { .msg_name = &kernel, .msg_namelen = sizeof(kernel),
			      .msg_iov = (struct iovec *)iov, .msg_iovlen = niov };

	return sendmsg(mnl_socket_get_fd(nl), &msg, 0);
}

struct mnl_socket *vd_nl_socket_open(const char *what, unsigned rcvbuf, unsigned flags,
				     char *errbuf)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100 * 1000 };
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	int one = 1, fd, saved;

	if (!nl) {
		vd_errbuf_set(errbuf, "%s: cannot open a netfilter netlink socket: %s", what,
			      strerror(errno));
		return NULL;
	}
	fd = mnl_socket_get_fd(nl);
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		vd_errbuf_set(errbuf, "%s: cannot bind the netlink socket: %s", what,
			      strerror(errno));
		goto fail;
	}
	if (flags & VD_NL_NO_ENOBUFS)
		mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	if (vd_nl_socket_set_rcvbuf(fd, rcvbuf) < 0)
		vd_log(VD_LOG_WARN, "%s: cannot set the receive buffer to %u bytes: %s", what,
		       rcvbuf, strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
		vd_errbuf_set(errbuf, "%s: cannot set a receive timeout: %s", what,
			      strerror(errno));
		goto fail;
	}
	return nl;
fail:
	saved = errno;
	mnl_socket_close(nl);
	errno = saved;
	return NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The answer to seq within one datagram: 1 when found (*error = 0 or a
 * negative errno), 0 when the datagram holds something else. */
static int find_ack(const void *buf, size_t len, uint32_t seq, int *error)
{
	const struct nlmsghdr *nlh = buf;
	size_t left = len;

	for (; vd_nl_msg_ok(nlh, left); nlh = vd_nl_msg_next(nlh, &left)) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

		if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq != seq)
			continue;
		*error = mnl_nlmsg_get_payload_len(nlh) < sizeof(*e) ? -EBADMSG : e->error;
		return 1;
	}
	return 0;
}

static int await_ack(struct mnl_socket *nl, uint32_t seq, const struct vd_nl_io *io)
{
	int64_t deadline = now_ms() + VD_NL_ACK_TIMEOUT_MS;
	int error;

	while (now_ms() < deadline) {
		ssize_t n = mnl_socket_recvfrom(nl, io->buf, io->size);

		if (n < 0) {
			/* ENOBUFS: packets overran us; the answer still comes. */
			if (errno == EAGAIN || errno == EINTR || errno == ENOBUFS)
				continue;
			return -errno;
		}
		if (find_ack(io->buf, (size_t)n, seq, &error))
			return error;
		if (io->other)
			io->other(io->buf, (size_t)n, io->data);
	}
	return -ETIMEDOUT;
}

int vd_nl_socket_request(struct mnl_socket *nl, struct nlmsghdr *nlh, const struct vd_nl_io *io)
{
	static uint32_t next_seq;
	uint32_t seq = __atomic_add_fetch(&next_seq, 1, __ATOMIC_RELAXED) + (uint32_t)time(NULL);

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return await_ack(nl, seq, io);
}
