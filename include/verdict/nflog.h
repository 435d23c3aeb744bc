/*
 * verdict/nflog.h - one NFLOG group: open, run, stop, close.
 *
 * `-j NFLOG --nflog-group N` copies packets to log group N; nothing waits for
 * an answer. The same one-call API as verdict/queue.h, with a callback that
 * sees each logged packet as a zero-copy view (pkt->source is
 * VD_SOURCE_NFLOG, pkt->queue the group, pkt->prefix the rule's prefix):
 *
 *     static void seen(const struct vd_packet *pkt, void *user)
 *     {
 *             printf("%s %u\n", pkt->prefix ? pkt->prefix : "", pkt->len);
 *     }
 *     struct vd_nflog_config cfg = { .group = 5, .callback = seen };
 *     char err[VD_ERRBUF_SIZE];
 *     struct vd_nflog *g = vd_nflog_open(&cfg, err);
 *     if (!g) { fprintf(stderr, "%s\n", err); return 1; }
 *     vd_nflog_run(g);              // until vd_nflog_stop(g)
 *     vd_nflog_close(g);
 *
 * Threading: as for queues, a vd_nflog belongs to the thread that runs it;
 * vd_nflog_stop (async-signal-safe) and vd_nflog_stats may be called from
 * any thread.
 *
 * Overruns: when the kernel cannot deliver (the socket buffer is full) the
 * receive reports ENOBUFS; the group counts it, doubles its socket buffer up
 * to rcvbuf_max and goes on. The packets lost are gone (NFLOG keeps no
 * queue); the sequence numbers (VD_NFLOG_F_SEQ) show where.
 */
#ifndef VERDICT_NFLOG_H
#define VERDICT_NFLOG_H

#include <stdint.h>

#include <verdict/abi.h>
#include <verdict/packet.h>
#include <verdict/queue.h>

#ifdef __cplusplus
extern "C" {
#endif

/* vd_nflog_config.flags: NFULNL_CFG_F_* */
enum vd_nflog_flag {
	VD_NFLOG_F_SEQ = 0x0001,        /* number packets per group (pkt->seq) */
	VD_NFLOG_F_SEQ_GLOBAL = 0x0002, /* number packets over all groups (pkt->seq_global) */
	VD_NFLOG_F_CONNTRACK = 0x0004,  /* attach conntrack information */
};

/* vd_nflog_config.copy_mode (mapped to the kernel's NFULNL_COPY_*) */
enum vd_nflog_copy {
	VD_NFLOG_COPY_PACKET = 0, /* metadata and up to copy_range bytes (the default) */
	VD_NFLOG_COPY_META = 1,   /* metadata only */
	VD_NFLOG_COPY_NONE = 2,   /* nothing: the kernel sends no messages */
};

/* Called once per logged packet on the group's thread; pkt is valid only
 * during the call. */
typedef void (*vd_log_cb)(const struct vd_packet *pkt, void *user);

struct vd_nflog_config {
	uint16_t group;          /* the --nflog-group of the NFLOG rule */
	uint8_t copy_mode;       /* enum vd_nflog_copy */
	uint32_t copy_range;     /* bytes copied per packet; 0: 65535 */
	uint32_t threshold;      /* packets the kernel gathers per message batch
				  * (NFULA_CFG_QTHRESH); 0: 1, each packet at once.
				  * Above 1, packets wait in the kernel up to
				  * timeout_cs, and those waiting at close are lost */
	uint32_t timeout_cs;     /* longest a gathered batch waits, 1/100 s
				  * (NFULA_CFG_TIMEOUT); 0: the kernel's (1 s) */
	uint32_t nlbufsiz;       /* kernel's message buffer (NFULA_CFG_NLBUFSIZ);
				  * 0: the kernel's (one page) */
	uint16_t flags;          /* enum vd_nflog_flag: required, else open fails */
	uint16_t optional_flags; /* also asked for; dropped with a warning when
				  * the kernel lacks them (conntrack without
				  * CONFIG_NETFILTER_NETLINK_GLUE_CT) */
	unsigned batch_size;     /* datagrams per receive; 0: 64, at most 1024 */
	unsigned rcvbuf;         /* socket receive buffer; 0: 8 MiB */
	unsigned rcvbuf_max;     /* growth limit on ENOBUFS; 0: 64 MiB */
	vd_log_cb callback;      /* required */
	vd_batch_cb batch_callback; /* optional, after each receive batch */
	void *user;
};

struct vd_nflog_stats {
	uint64_t packets;        /* packets received */
	uint64_t bytes;          /* captured bytes */
	uint64_t batches;        /* receive batches */
	uint64_t parse_errors;   /* views with parse_error set */
	uint64_t enobufs;        /* overruns: packets were lost */
	uint64_t seq_gaps;       /* packets missing by sequence number (with VD_NFLOG_F_SEQ) */
	uint64_t recv_errors;    /* other failed receives, undecodable messages */
	uint64_t rcvbuf;         /* the socket buffer now, bytes */
};

struct vd_nflog;

/* Opens a netlink socket and binds cfg->group with every setting in one
 * message. NULL with errno and one line in errbuf (VD_ERRBUF_SIZE bytes):
 * EPERM (no CAP_NET_ADMIN), EBUSY (another process has the group),
 * EOPNOTSUPP (a required flag the kernel lacks), EINVAL (no callback, a
 * batch size above 1024). Packets logged while the kernel acknowledges the
 * bind already go to the callback, on the calling thread. cfg is copied. */
struct vd_nflog *vd_nflog_open_sized(const struct vd_nflog_config *cfg, size_t cfg_size,
				     char *errbuf);
#define vd_nflog_open(cfg, errbuf) vd_nflog_open_sized((cfg), sizeof(*(cfg)), (errbuf))

/* Receives and calls back until vd_nflog_stop, then handles what already
 * waits in the socket. Returns 0, or -1 with errno on a fatal socket error. */
int vd_nflog_run(struct vd_nflog *g);

/* Async-signal-safe; idempotent. */
void vd_nflog_stop(struct vd_nflog *g);

void vd_nflog_stats_sized(const struct vd_nflog *g, struct vd_nflog_stats *out, size_t out_size);
#define vd_nflog_stats(g, out) vd_nflog_stats_sized((g), (out), sizeof(*(out)))

uint16_t vd_nflog_group(const struct vd_nflog *g);

/* Unbinds the group and frees g. Returns 0, or -1 with errno when the unbind
 * failed (g is freed anyway). NULL is a no-op. */
int vd_nflog_close(struct vd_nflog *g);

#ifdef __cplusplus
}
#endif

#endif
