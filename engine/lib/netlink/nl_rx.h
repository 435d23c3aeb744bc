/*
 * nl_rx.h - the receive loop every queue and log group runs: receive a batch
 * of datagrams with one recvmmsg, hand each to its owner, end the batch,
 * until asked to stop, then drain what is already waiting.
 *
 * One loop for NFQUEUE and NFLOG (queue.c and nflog.c supply the handlers):
 * slot sizing, batch-size limits, error classification, liburcu QSBR states
 * and the shutdown drain exist here once.
 *
 * Threading: a vd_nl_rx belongs to the thread in vd_nl_rx_run, except
 * vd_nl_rx_stop (any thread, async-signal-safe).
 */
#ifndef VD_NL_RX_H
#define VD_NL_RX_H

#define _GNU_SOURCE /* struct mmsghdr */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define VD_NL_RX_DEFAULT_BATCH 64
#define VD_NL_RX_MAX_BATCH 1024
#define VD_NL_RX_DEFAULT_RCVBUF (8u << 20)
/* Netlink and attribute overhead around a packet's bytes. */
#define VD_NL_RX_MSG_OVERHEAD 4096

/* What the owner does with what arrives. Every handler is called on the
 * loop's thread. */
struct vd_nl_rx_ops {
	/* One datagram; truncated when it was larger than a slot (MSG_TRUNC):
	 * then only len bytes of it are there. Required. */
	void (*datagram)(void *owner, const uint8_t *buf, size_t len, bool truncated);
	/* After the datagrams of a batch that had any. Optional. */
	void (*batch_end)(void *owner, unsigned ndatagrams);
	/* The socket reported an overrun (ENOBUFS). Optional. */
	void (*overrun)(void *owner);
	/* A receive failed for another reason that is not fatal. Optional. */
	void (*recv_error)(void *owner, int err);
	/* At the end of every turn of the loop, batch or not (stats, releases
	 * of held verdicts). Optional. */
	void (*turn_end)(void *owner);
	/* Nanoseconds until the owner needs a turn though nothing arrives (a
	 * held verdict's release time), or -1 when it needs none. Optional;
	 * while it returns -1 the loop blocks in the receive as without it. */
	int64_t (*wait_ns)(void *owner);
};

struct vd_nl_rx {
	int fd;
	unsigned nslots;
	size_t slot_size;        /* bytes of a slot, tail room included */
	size_t recv_size;        /* bytes a receive may fill: slot_size - tail room */
	uint8_t *buf;            /* nslots slots of slot_size bytes */
	struct mmsghdr *msgs;
	struct iovec *iov;
	bool rcu_qsbr;           /* report liburcu QSBR states (see vd_nl_rx_run) */
	int wake_fd;             /* eventfd that also ends a timed wait; -1: none */
	atomic_int stop;
};

/* Checks and defaults a batch size (0: VD_NL_RX_DEFAULT_BATCH). Returns 0,
 * or -1 with errno EINVAL and errbuf ("WHAT: batch size N is above the
 * maximum M") when it is above VD_NL_RX_MAX_BATCH. */
int vd_nl_rx_batch_check(unsigned *batch, const char *what, char *errbuf);

/* Allocates nslots slots for datagrams of up to slot_size bytes (rounded up
 * to a page) on fd. Returns 0 or -1 with errno ENOMEM. */
int vd_nl_rx_init(struct vd_nl_rx *rx, int fd, unsigned nslots, size_t slot_size);

/* Like vd_nl_rx_init, with tail_room more bytes at the end of every slot
 * that no receive writes: a datagram of up to datagram_max bytes (the page
 * rounding goes to the receive) always leaves at least tail_room bytes of
 * its slot free after it. A larger datagram is cut (MSG_TRUNC) where the
 * tail room starts. For queues, whose packets are rewritten in place. */
int vd_nl_rx_init_tail(struct vd_nl_rx *rx, int fd, unsigned nslots, size_t datagram_max,
		       size_t tail_room);
void vd_nl_rx_free(struct vd_nl_rx *rx);

/* One turn: one receive (flags: MSG_WAITFORONE to block up to the socket's
 * timeout, MSG_DONTWAIT not to), the handlers, a quiescent state. Returns
 * the number of datagrams, 0 on timeout or a counted error, -1 (errno set)
 * on a fatal socket error. Hot path: one syscall, no allocation. */
int vd_nl_rx_turn(struct vd_nl_rx *rx, const struct vd_nl_rx_ops *ops, void *owner, int flags);

/* Turns until vd_nl_rx_stop, then drains what already waits in the socket
 * (at most VD_NL_RX_DRAIN_BATCHES turns, so a flood cannot hold the exit).
 * With rcu_qsbr, the calling thread must be registered with liburcu-qsbr: it
 * is offline while blocked in the receive and quiescent after every turn.
 * When ops->wait_ns gives a time, the turn waits with ppoll (nanosecond
 * timeout) on the socket and wake_fd for it or the next datagram, whichever
 * comes first, then receives without blocking (no receive when the wait saw
 * nothing on the socket: a timer's turn is the owner's turn end alone):
 * sub-millisecond timers with no extra thread.
 * Returns 0, or -1 with errno on a fatal socket error. */
int vd_nl_rx_run(struct vd_nl_rx *rx, const struct vd_nl_rx_ops *ops, void *owner);

#define VD_NL_RX_DRAIN_BATCHES 256

/* Asks vd_nl_rx_run to return within the socket's receive timeout.
 * Async-signal-safe, thread-safe, idempotent. */
static inline void vd_nl_rx_stop(struct vd_nl_rx *rx)
{
	atomic_store_explicit(&rx->stop, 1, memory_order_relaxed);
}

#endif
