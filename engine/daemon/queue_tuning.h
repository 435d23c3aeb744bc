/*
 * queue_tuning.h - how big verdictd makes its kernel queues, and what it
 * concludes from the kernel's drop counters: pure decisions, no I/O, so
 * that unit tests drive them (kernel_watch.h reads /proc and acts).
 */
#ifndef VD_QUEUE_TUNING_H
#define VD_QUEUE_TUNING_H

#include <stdbool.h>
#include <stdint.h>

#include <verdict/queue.h>

/* What one small queued packet costs the socket's receive buffer (the
 * skb's truesize: netlink message, packet, skb_shared_info). */
#define VD_TUNING_PACKET_TRUESIZE 1024u
/* The default queue length covers at least this many receive batches. */
#define VD_TUNING_MIN_BATCHES 16u
/* Kernel queue room beyond what is held: new packets while hold_max are held. */
#define VD_TUNING_HOLD_HEADROOM 1024u
/* Growth limits when the kernel drops packets (--maxlen-max, --queue-rcvbuf-max). */
#define VD_TUNING_DEFAULT_MAXLEN_MAX 65536u
#define VD_TUNING_DEFAULT_RCVBUF_MAX (64u << 20)

/* The kernel queue length without --maxlen: as many packets as the receive
 * buffer holds (rcvbuf / VD_TUNING_PACKET_TRUESIZE), since a shorter queue
 * overflows while the buffer still has room, and at least
 * VD_TUNING_MIN_BATCHES batches of batch packets. With delays (the rules
 * may hold packets in the queue), hold_max + VD_TUNING_HOLD_HEADROOM when
 * that is more. rcvbuf and batch are the effective values (not 0). */
uint32_t vd_tuning_default_maxlen(unsigned rcvbuf, unsigned batch, bool delays,
				  uint32_t hold_max);

/* One queue's drop counters as the daemon keeps them, updated from each
 * read of /proc/net/netfilter/nfnetlink_queue. Main thread only. */
struct vd_kernel_watch {
	uint64_t queue_dropped;  /* the kernel's queue_dropped: the queue was full */
	uint64_t user_dropped;   /* the kernel's user_dropped: the socket buffer was full */
	uint64_t fail_open;      /* with fail-open: packets the kernel accepted unjudged
				  * because the socket buffer was full (see
				  * vd_kernel_watch_update) */
	int64_t gap_last;        /* the previous read's fail-open estimate */
	bool alarmed;            /* the alarm line was logged */
};

enum vd_watch_action {
	VD_WATCH_ALARM = 1u << 0, /* drops moved for the first time: log the alarm */
	VD_WATCH_GROW = 1u << 1,  /* drops moved: grow the queue and buffer */
};

/* Takes one /proc sample k, read before the queue's counters s. The kernel
 * shows no fail-open count: with fail_open, packets accepted unjudged for
 * a full socket buffer still took a packet id, so they are the ids neither
 * user-dropped, nor waiting in the queue, nor given a verdict:
 * id_sequence - user_dropped - queue_total - (packets - held - pending),
 * in 32-bit arithmetic as the kernel counts. s is published after each
 * batch's verdicts are sent, so one read may count a batch too many: the
 * smaller of two reads' estimates is kept. Packets accepted because the
 * queue was full at maxlen take no id and stay invisible. Returns enum
 * vd_watch_action bits. */
unsigned vd_kernel_watch_update(struct vd_kernel_watch *w, const struct vd_kernel_queue_stats *k,
				const struct vd_queue_stats *s, bool fail_open);

#endif
