/*
 * verdict/queue.h - one NFQUEUE queue: open, run, stop, close.
 *
 * The one-call API the Go and Rust bindings offer, in C:
 *
 *     static struct vd_verdict cb(const struct vd_packet *pkt, void *user)
 *     {
 *             return pkt->dport == 23 ? vd_verdict_drop() : vd_verdict_accept();
 *     }
 *     struct vd_queue_config cfg = { .queue_num = 0, .callback = cb };
 *     char err[VD_ERRBUF_SIZE];
 *     struct vd_queue *q = vd_queue_open(&cfg, err);
 *     if (!q) { fprintf(stderr, "%s\n", err); return 1; }
 *     vd_queue_run(q);              // until vd_queue_stop(q), e.g. from SIGTERM
 *     vd_queue_close(q);
 *
 * Threading: a vd_queue belongs to the thread that calls vd_queue_run; only
 * vd_queue_stop, vd_queue_verdict and vd_queue_stats may be called from other
 * threads (and vd_queue_stop from a signal handler). One thread per queue;
 * for several queues see verdict/engine.h.
 *
 * Reject and connection verdicts (verdict/verdict.h) need verdictd's
 * generated kernel rules (verdictd --firewall or --print-firewall); tell the
 * queue their mark field with kernel_mark_mask.
 *
 * Verdicts: a verdict without a delay is sent with its receive batch's, in
 * one sendmsg. A verdict with delay_us > 0 (vd_verdict_delay) is held by the
 * queue's thread, in a FIFO ring while release times come in order (a
 * constant delay) and a timer heap for the rest (id, verdict and release
 * time; the packet's bytes only when it was rewritten), and sent at its
 * release time: the thread waits with a nanosecond timeout for the next
 * release or the next packet, whichever comes first (vd_queue_run sets the
 * thread's timer slack to 1 ns while it runs, so that the wait ends on
 * time). A callback that returns vd_verdict_pending()
 * answers later, from any thread, with vd_queue_verdict (which may carry a
 * delay too). While anything is held or pending, verdicts are not folded into
 * batch verdicts (which would cover the held ids), except released ones whose
 * ids are below every id still held and pending: the releases due at once
 * then go as one batch verdict. At most hold_max packets
 * are held and hold_max pending; beyond that a delayed verdict is sent at
 * once and a pending one gets the fallback's verdict (counted in
 * hold_overflow). When vd_queue_run stops, every held verdict is sent at
 * once and every packet still pending gets the fallback's verdict (or drop),
 * so none is left in the kernel. The kernel queue must be long enough for
 * what is held: set maxlen above hold_max. A packet whose
 * message cannot be decoded (cut short by the receive buffer, malformed) is
 * answered too, as soon as its id can be read: with the fallback callback's
 * verdict, or drop (counted as undecodable).
 *
 * Growing structs: vd_queue_open and the stats functions are macros that
 * pass the caller's struct size (verdict/abi.h).
 */
#ifndef VERDICT_QUEUE_H
#define VERDICT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include <verdict/abi.h>
#include <verdict/edit.h>
#include <verdict/packet.h>
#include <verdict/verdict.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Size of the error buffers the open functions fill (like libpcap's). */
#define VD_ERRBUF_SIZE 512

/* Largest copy range the kernel accepts (NFQNL_MAX_COPY_RANGE). */
#define VD_QUEUE_MAX_COPY_RANGE 0xffff

/* With an edit callback: bytes every receive slot keeps free after the
 * largest datagram, room for a rewritten packet to grow in place. */
#define VD_QUEUE_TAIL_ROOM 4096

/* The longest packet a verdict carries back (one NFQA_PAYLOAD attribute). */
#define VD_QUEUE_MAX_PAYLOAD 65531

/* vd_queue_config.flags, sent to the kernel in one NFQA_CFG_FLAGS attribute
 * with a mask that covers all five, so an unset flag is cleared too. */
enum vd_queue_flag {
	VD_QUEUE_F_FAIL_OPEN = 1u << 0, /* accept instead of drop when the queue is full */
	VD_QUEUE_F_CONNTRACK = 1u << 1, /* send conntrack state (ct_state, ct_mark) */
	VD_QUEUE_F_GSO = 1u << 2,       /* no software segmentation: big packets */
	VD_QUEUE_F_UID_GID = 1u << 3,   /* send the owning socket's uid and gid */
	VD_QUEUE_F_SECCTX = 1u << 4,    /* send the security context */
};

/* The flags verdictd asks for when the caller expresses no preference: as
 * optional_flags, since not every kernel has them (conntrack for queues
 * needs CONFIG_NETFILTER_NETLINK_GLUE_CT). */
#define VD_QUEUE_DEFAULT_OPTIONAL_FLAGS (VD_QUEUE_F_CONNTRACK | VD_QUEUE_F_UID_GID)

/* Called once per packet on the queue's thread. pkt is valid only during the
 * call. Hot path: must not block; the whole batch waits for it. */
typedef struct vd_verdict (*vd_packet_cb)(const struct vd_packet *pkt, void *user);

/* Like vd_packet_cb, for a packet the callback may rewrite: edit was
 * vd_packet_edit_prepare'd over the packet in the receive buffer (edit->pkt
 * is the view, writable, the queue's own), with the slot's tail room as
 * capacity for growth: every receive slot keeps VD_QUEUE_TAIL_ROOM bytes
 * after the largest datagram, and the capacity is never above
 * VD_QUEUE_MAX_PAYLOAD (what one verdict carries). When the verdict is
 * accept, repeat or queue and vd_packet_edit_pending(edit), the verdict
 * carries edit->buf[0, edit->len) as the packet's new content, read in
 * place when the batch's verdicts are sent (no copy), in a verdict message
 * of its own; a drop verdict discards the edits. A verdict the queue cannot
 * send with its packet (larger than the socket's send limit) goes out
 * without it, the packet unchanged, counted in rewrite_refused. Edits are
 * prepared with no option: a TCP payload length change is refused (see
 * verdict/edit.h). Hot path, like vd_packet_cb; a packet the callback does
 * not edit costs a few stores more. */
typedef struct vd_verdict (*vd_packet_edit_cb)(struct vd_packet_edit *edit, void *user);

/* Called once per receive batch, after every packet of it got its verdict and
 * before the verdicts are sent (may be NULL). For RCU quiescent states,
 * per-batch statistics, and the like. */
typedef void (*vd_batch_cb)(unsigned npackets, void *user);

/* The verdict for a packet whose message could not be decoded, so that no
 * packet view exists (e.g. a rule table's default verdict). Queue thread;
 * hot path rules apply. */
typedef struct vd_verdict (*vd_fallback_cb)(void *user);

struct vd_queue_config {
	uint16_t queue_num;     /* the --queue-num of the NFQUEUE rule */
	uint32_t copy_range;    /* bytes of each packet copied; 0: VD_QUEUE_MAX_COPY_RANGE */
	uint32_t maxlen;        /* kernel queue length; 0: leave the kernel's (1024) */
	uint32_t flags;         /* enum vd_queue_flag: required, else open fails */
	uint32_t optional_flags; /* also asked for, but dropped with a warning
				  * when the kernel does not support them */
	unsigned batch_size;    /* packets per receive; 0: 64 */
	unsigned rcvbuf;        /* socket receive buffer bytes; 0: 8 MiB */
	vd_packet_cb callback;  /* required, unless edit_callback is set */
	vd_batch_cb batch_callback; /* optional */
	void *user;             /* passed to the callbacks */
	/* --- added in 0.2 --- */
	vd_fallback_cb fallback; /* optional; NULL: undecodable packets are dropped */
	/* --- added in 0.3 --- */
	vd_packet_edit_cb edit_callback; /* used instead of callback when set */
	uint32_t hold_max;      /* most packets held (delayed), and most pending;
				 * 0: VD_QUEUE_DEFAULT_HOLD_MAX */
	/* --- added in 0.4 --- */
	uint32_t kernel_mark_mask; /* the mark field verdictd's generated kernel
				    * rules act on (verdict/kernel_mark.h: 4
				    * contiguous bits, e.g. VD_KMARK_DEFAULT_MASK);
				    * reject and connection verdicts go through
				    * it (verdict/verdict.h). 0: no such rules
				    * are loaded: a reject is sent as drop, the
				    * connection flag is ignored */
};

/* The defaults of vd_queue_config.batch_size and rcvbuf. */
#define VD_QUEUE_DEFAULT_BATCH 64
#define VD_QUEUE_DEFAULT_RCVBUF (8u << 20)

/* The default of vd_queue_config.hold_max. */
#define VD_QUEUE_DEFAULT_HOLD_MAX 65536

/* Per-queue counters. Written only by the queue's thread; readable at any
 * time from any thread through vd_queue_stats (values may be one batch old). */
struct vd_queue_stats {
	uint64_t packets;       /* packets received */
	uint64_t bytes;         /* their length on the wire */
	uint64_t accepted, dropped, queued, repeated; /* verdicts by kind */
	uint64_t marked;        /* verdicts that set a mark */
	uint64_t parse_errors;  /* packets whose view has parse_error != OK */
	uint64_t truncated;     /* packets cut short by the copy range */
	uint64_t batches;       /* receive batches */
	uint64_t verdict_msgs;  /* verdict messages sent (batching folds many packets into one) */
	uint64_t enobufs;       /* receive overruns the socket reported */
	uint64_t recv_errors;   /* other failed receives */
	uint64_t send_errors;   /* failed verdict sends */
	uint64_t kernel_errors; /* error replies from the kernel (e.g. unknown packet id) */
	uint64_t invalid_verdicts; /* callback results the kernel cannot take (sent as drop) */
	/* --- added in 0.2 --- */
	uint64_t undecodable;   /* packets answered by the fallback: message not decodable */
	/* --- added in 0.3 --- */
	uint64_t rewritten;     /* verdicts sent with a rewritten packet */
	uint64_t rewrite_refused; /* edits the queue could not send (sent unchanged):
				   * a verdict with its packet over the socket's
				   * send limit, or over 65,531 bytes */
	uint64_t held;          /* verdicts held for a delay now */
	uint64_t held_max;      /* the most held at once */
	uint64_t released;      /* held verdicts sent at their release time or at stop */
	uint64_t pending;       /* packets awaiting vd_queue_verdict now */
	uint64_t hold_overflow; /* could not be held or remembered (hold_max):
				 * sent at once, or the fallback's verdict */
	/* Release error (actual minus scheduled release), from a log histogram
	 * (bucket upper bounds, at most 12.5% high) of every timed release. */
	uint64_t release_error_p50_ns, release_error_p99_ns, release_error_max_ns;
	/* --- added in 0.4, gauges of vd_queue_grow --- */
	uint64_t maxlen;        /* the kernel queue length asked for now */
	uint64_t rcvbuf;        /* the socket receive buffer asked for now, bytes */
	uint64_t grows;         /* vd_queue_grow calls that raised either */
	uint64_t rejected;      /* reject verdicts (sent as drop without kernel_mark_mask) */
	uint64_t bypassed;      /* verdicts with VD_VERDICT_F_CONNECTION: the rest of
				 * the connection decided in the kernel (ignored
				 * without kernel_mark_mask) */
	uint64_t stripped;      /* reject or connection verdicts whose delay or
				 * edits were dropped: the kernel acts on them at
				 * once, on the packet as it came */
};

/* The kernel's counters of one queue, from /proc/net/netfilter/nfnetlink_queue
 * of the caller's network namespace. */
struct vd_kernel_queue_stats {
	unsigned portid;        /* netlink port of the bound socket */
	unsigned queue_total;   /* packets waiting for a verdict now */
	unsigned copy_mode, copy_range;
	unsigned long queue_dropped; /* dropped because the queue was full (maxlen) */
	unsigned long user_dropped;  /* dropped because the socket buffer was full */
	unsigned id_sequence;   /* last packet id handed out */
};

struct vd_queue;

/* Opens a netlink socket, binds cfg->queue_num and configures it (copy mode
 * and range, maxlen, flags), all in one call. On failure returns NULL, sets
 * errno and writes a one-line message to errbuf (VD_ERRBUF_SIZE bytes) naming
 * the queue and what to do, e.g. for a missing CAP_NET_ADMIN (EPERM) or a
 * queue bound by another process (EBUSY). cfg is copied. */
struct vd_queue *vd_queue_open_sized(const struct vd_queue_config *cfg, size_t cfg_size,
				     char *errbuf);
#define vd_queue_open(cfg, errbuf) vd_queue_open_sized((cfg), sizeof(*(cfg)), (errbuf))

/* Receives, parses, calls back and sends verdicts until vd_queue_stop. Then
 * drains what is already waiting in the socket so that it gets verdicts too.
 * The calling thread's timer slack is 1 ns meanwhile (PR_SET_TIMERSLACK),
 * restored on return.
 * Returns 0, or -1 with errno on a fatal socket error (ENOBUFS is never
 * fatal: it is counted). */
int vd_queue_run(struct vd_queue *q);

/* Asks vd_queue_run to return within about 100 ms (it first sends every
 * held verdict, and the fallback's for packets still pending). Async-signal-safe and
 * thread-safe; idempotent. */
void vd_queue_stop(struct vd_queue *q);

/* The verdict of packet id, which the callback answered with
 * vd_verdict_pending(); v may carry a delay (counted from now). Any thread,
 * not a signal handler: a short mutex-protected handoff to the queue's
 * thread, which it wakes. Valid from vd_queue_open until vd_queue_close.
 * Returns 0, or -1 with errno EINVAL (v is not accept, drop, queue, repeat
 * or reject, or has a flag its kind cannot take), EAGAIN (hold_max answers wait to be taken: try again),
 * ESHUTDOWN (the queue stopped: the packet already got the fallback's
 * verdict). An id that is not pending is counted in invalid_verdicts. */
int vd_queue_verdict(struct vd_queue *q, uint32_t id, struct vd_verdict v);

/* Copies the counters into out. Thread-safe. */
void vd_queue_stats_sized(const struct vd_queue *q, struct vd_queue_stats *out, size_t out_size);
#define vd_queue_stats(q, out) vd_queue_stats_sized((q), (out), sizeof(*(out)))

/* Reads the kernel's counters of queue_num (not necessarily bound by this
 * process). Returns 0; -1 with errno ENOENT when nobody has it bound. Not for
 * the hot path: it reads a /proc file. Thread-safe. */
int vd_queue_kernel_stats_sized(uint16_t queue_num, struct vd_kernel_queue_stats *out,
				size_t out_size);
#define vd_queue_kernel_stats(num, out) vd_queue_kernel_stats_sized((num), (out), sizeof(*(out)))

/* The kernel queue length when vd_queue_config.maxlen is 0 (NFQNL_QMAX_DEFAULT). */
#define VD_QUEUE_KERNEL_MAXLEN 1024

/* One growth step after the kernel dropped packets of q's queue (its
 * queue_dropped or user_dropped moved, vd_queue_kernel_stats): doubles the
 * kernel queue length up to maxlen_max, re-sending NFQA_CFG_QUEUE_MAXLEN on
 * the bound queue, and the socket receive buffer up to rcvbuf_max
 * (SO_RCVBUFFORCE), as log groups grow theirs on an overrun; a maximum of 0
 * leaves that one alone. Logs one line naming the new sizes. Not the hot
 * path: any thread but the queue's own callbacks and signal handlers, one
 * thread at a time. The length goes out without asking for an
 * acknowledgement, so the queue's thread is not disturbed: a refusal
 * arrives there and is counted in kernel_errors. Returns 1 when either
 * grew, 0 when both are at their maximum, -1 with errno when the send
 * failed. */
int vd_queue_grow(struct vd_queue *q, uint32_t maxlen_max, unsigned rcvbuf_max);

/* The queue number q is bound to. */
uint16_t vd_queue_num(const struct vd_queue *q);

/* Unbinds the queue, closes the socket and frees q (NULL is a no-op). Must
 * not run concurrently with vd_queue_run. Returns 0, or -1 with errno when
 * the unbind failed (q is freed anyway). */
int vd_queue_close(struct vd_queue *q);

#ifdef __cplusplus
}
#endif

#endif
