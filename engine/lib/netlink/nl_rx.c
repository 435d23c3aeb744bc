/* nl_rx.c - the one receive loop of queues and log groups (nl_rx.h). */
#define _GNU_SOURCE /* recvmmsg */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "nl_rx.h"
#include "rcu.h"

int vd_nl_rx_batch_check(unsigned *batch, const char *what, char *errbuf)
{
	if (*batch == 0)
		*batch = VD_NL_RX_DEFAULT_BATCH;
	if (*batch > VD_NL_RX_MAX_BATCH) {
		vd_errbuf_set(errbuf, "%s: batch size %u is above the maximum %u", what, *batch,
			      VD_NL_RX_MAX_BATCH);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int vd_nl_rx_init(struct vd_nl_rx *rx, int fd, unsigned nslots, size_t slot_size)
{
	return vd_nl_rx_init_tail(rx, fd, nslots, slot_size, 0);
}

int vd_nl_rx_init_tail(struct vd_nl_rx *rx, int fd, unsigned nslots, size_t datagram_max,
		       size_t tail_room)
{
	memset(rx, 0, sizeof(*rx));
	rx->fd = fd;
	rx->wake_fd = -1;
	rx->nslots = nslots;
	rx->slot_size = (datagram_max + tail_room + 4095) & ~(size_t)4095;
	rx->recv_size = rx->slot_size - tail_room;
	/* Large enough to be mmap'ed: pages a small packet never touches stay
	 * out of the resident set. */
	rx->buf = malloc(rx->slot_size * nslots);
	rx->msgs = calloc(nslots, sizeof(*rx->msgs));
	rx->iov = calloc(nslots, sizeof(*rx->iov));
	if (!rx->buf || !rx->msgs || !rx->iov) {
		vd_nl_rx_free(rx);
		errno = ENOMEM;
		return -1;
	}
	for (unsigned i = 0; i < nslots; i++) {
		rx->iov[i] = (struct iovec){ .iov_base = rx->buf + (size_t)i * rx->slot_size,
					     .iov_len = rx->recv_size };
		rx->msgs[i].msg_hdr.msg_iov = &rx->iov[i];
		rx->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

void vd_nl_rx_free(struct vd_nl_rx *rx)
{
	free(rx->buf);
	free(rx->msgs);
	free(rx->iov);
	rx->buf = NULL;
	rx->msgs = NULL;
	rx->iov = NULL;
}

/* The number of datagrams received, 0 on timeout or a counted error, -1 on
 * a fatal error. */
static int receive(struct vd_nl_rx *rx, const struct vd_nl_rx_ops *ops, void *owner, int flags)
{
	int ret;

	for (unsigned i = 0; i < rx->nslots; i++)
		rx->msgs[i].msg_hdr.msg_flags = 0;
	if (rx->rcu_qsbr)
		vd_rcu_offline();
	ret = recvmmsg(rx->fd, rx->msgs, rx->nslots, flags, NULL);
	if (rx->rcu_qsbr)
		vd_rcu_online();
	if (ret >= 0)
		return ret;
	switch (errno) {
	case EAGAIN:
	case EINTR:
		return 0;
	case ENOBUFS:
		if (ops->overrun)
			ops->overrun(owner);
		return 0;
	case EBADF:
	case ENOTSOCK:
	case EFAULT:
	case EINVAL:
		return -1;
	default:
		if (ops->recv_error)
			ops->recv_error(owner, errno);
		return 0;
	}
}

/* A turn; without receive (the wait ended with nothing on the socket),
 * only the owner's turn end. */
static int turn(struct vd_nl_rx *rx, const struct vd_nl_rx_ops *ops, void *owner, int flags,
		bool receive_now)
{
	int n = receive_now ? receive(rx, ops, owner, flags) : 0;

	for (int i = 0; i < n; i++)
		ops->datagram(owner, rx->buf + (size_t)i * rx->slot_size, rx->msgs[i].msg_len,
			      (rx->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0);
	if (n > 0 && ops->batch_end)
		ops->batch_end(owner, (unsigned)n);
	if (ops->turn_end)
		ops->turn_end(owner);
	if (rx->rcu_qsbr)
		vd_rcu_quiescent();
	return n;
}

int vd_nl_rx_turn(struct vd_nl_rx *rx, const struct vd_nl_rx_ops *ops, void *owner, int flags)
{
	return turn(rx, ops, owner, flags, true);
}

/* Waits up to ns for a datagram or a wake-up. Returns whether the socket
 * is worth a receive: false when the wait ended with nothing on it (the
 * timer, or only a wake-up); errors end the wait early, and the receive that
 * follows reports them. */
static bool wait_ready(struct vd_nl_rx *rx, int64_t ns)
{
	struct pollfd fds[2] = { { .fd = rx->fd, .events = POLLIN },
				 { .fd = rx->wake_fd, .events = POLLIN } };
	struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
	uint64_t count;
	int ret;

	if (rx->rcu_qsbr)
		vd_rcu_offline();
	ret = ppoll(fds, rx->wake_fd >= 0 ? 2 : 1, &ts, NULL);
	if (ret > 0 && (fds[1].revents & POLLIN) && read(rx->wake_fd, &count, sizeof(count)) < 0) {
		/* EAGAIN: another wait already reset it. */
	}
	if (rx->rcu_qsbr)
		vd_rcu_online();
	return ret < 0 || fds[0].revents != 0;
}

/* The receive flags of the next turn, after waiting for a timer if the
 * owner has one; *receive_now false when that wait saw nothing arrive (a
 * release timer's turn then costs no receive). */
static int turn_flags(struct vd_nl_rx *rx, const struct vd_nl_rx_ops *ops, void *owner,
		      bool *receive_now)
{
	int64_t ns = ops->wait_ns ? ops->wait_ns(owner) : -1;

	*receive_now = true;
	if (ns < 0)
		return MSG_WAITFORONE;
	if (ns > 0)
		*receive_now = wait_ready(rx, ns);
	return MSG_DONTWAIT;
}

int vd_nl_rx_run(struct vd_nl_rx *rx, const struct vd_nl_rx_ops *ops, void *owner)
{
	bool receive_now;
	int flags;

	while (!atomic_load_explicit(&rx->stop, memory_order_relaxed)) {
		flags = turn_flags(rx, ops, owner, &receive_now);
		if (turn(rx, ops, owner, flags, receive_now) < 0)
			return -1;
	}
	for (int i = 0; i < VD_NL_RX_DRAIN_BATCHES; i++)
		if (vd_nl_rx_turn(rx, ops, owner, MSG_DONTWAIT) <= 0)
			break;
	return 0;
}
