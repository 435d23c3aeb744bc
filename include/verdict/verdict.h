/*
 * verdict/verdict.h - the verdict a callback or hook returns for one packet.
 *
 * A struct vd_verdict is small (16 bytes, two registers) and returned by
 * value, so a callback costs no allocation. Kinds carry the kernel's NF_* numbers so the
 * engine passes them to NFQUEUE without translation; the two that are not
 * kernel verdicts (pending, reject) are translated by the queue.
 *
 * Reject and "decide the connection once" (VD_VERDICT_F_CONNECTION) are
 * carried out by verdictd's generated kernel rules (verdict/kernel_mark.h):
 * with vd_queue_config.kernel_mark_mask set, the queue answers such a
 * verdict with NF_REPEAT and a code in the mark field the rules act on.
 * Without it (no generated rules) a reject is sent as a drop and the
 * connection flag is ignored; both are still counted (vd_queue_stats).
 * Such a verdict is never delayed or rewritten: the kernel acts on it at
 * once, on the packet as it came, so a delay or edits it carries are
 * dropped (counted in vd_queue_stats.stripped).
 */
#ifndef VERDICT_VERDICT_H
#define VERDICT_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What happens to the packet. Values equal the kernel's NF_DROP, NF_ACCEPT,
 * NF_QUEUE and NF_REPEAT. */
enum vd_verdict_kind {
	VD_VERDICT_DROP = 0,   /* discard the packet */
	VD_VERDICT_ACCEPT = 1, /* let it continue through the ruleset */
	VD_VERDICT_QUEUE = 3,  /* hand it to another queue (vd_verdict.queue) */
	VD_VERDICT_REPEAT = 4, /* re-inject at the start of the same hook */
	/* Not a kernel verdict: the callback answers later, from any thread,
	 * with vd_queue_verdict(queue, pkt->id, verdict) (verdict/queue.h). */
	VD_VERDICT_PENDING = 0x80,
	/* Not a kernel verdict: refuse the packet and tell the sender (a TCP
	 * reset or an ICMP error, enum vd_reject_with in vd_verdict.queue), as
	 * iptables' REJECT target does, through the generated kernel rules. */
	VD_VERDICT_REJECT = 0x81,
};

/* How a reject answers (vd_verdict.queue of a VD_VERDICT_REJECT). Each has
 * its ICMPv6 counterpart for IPv6 packets. */
enum vd_reject_with {
	VD_REJECT_DEFAULT = 0,          /* port unreachable (icmp6-port-unreachable),
					 * iptables' default */
	VD_REJECT_TCP_RESET = 1,        /* a TCP reset; other packets: port unreachable */
	VD_REJECT_ADMIN_PROHIBITED = 2, /* icmp-admin-prohibited (icmp6-adm-prohibited) */
	VD_REJECT_HOST_UNREACHABLE = 3, /* icmp-host-unreachable (icmp6-addr-unreachable) */
};
#define VD_REJECT_WITH_MAX VD_REJECT_HOST_UNREACHABLE

/* The longest delay a verdict carries: about 71 minutes. */
#define VD_VERDICT_MAX_DELAY_US UINT32_MAX

/* vd_verdict.flags */
enum vd_verdict_flag {
	VD_VERDICT_F_MARK = 1u << 0,   /* set the packet mark (mark, mark_mask) */
	VD_VERDICT_F_BYPASS = 1u << 1, /* QUEUE only: accept if nobody listens */
	/* ACCEPT, DROP, REJECT only: apply the verdict to the rest of the
	 * packet's connection in the kernel, which stops queueing it (the rules
	 * file's `bypass = true`; needs the generated rules, see above). */
	VD_VERDICT_F_CONNECTION = 1u << 2,
};

struct vd_verdict {
	uint8_t kind;       /* enum vd_verdict_kind */
	uint8_t flags;      /* enum vd_verdict_flag */
	uint16_t queue;     /* target queue for VD_VERDICT_QUEUE; enum
			     * vd_reject_with for VD_VERDICT_REJECT */
	uint32_t mark;      /* with VD_VERDICT_F_MARK: bits to set ... */
	uint32_t mark_mask; /* ... within this mask: new = (old & ~mask) | (mark & mask) */
	/* --- added in SONAME 2 / hook ABI 2 --- */
	uint32_t delay_us;  /* hold the packet this long before the verdict goes
			     * to the kernel; 0: at once (vd_verdict_delay) */
};

static inline struct vd_verdict vd_verdict_accept(void)
{
	return (struct vd_verdict){ .kind = VD_VERDICT_ACCEPT };
}

static inline struct vd_verdict vd_verdict_drop(void)
{
	return (struct vd_verdict){ .kind = VD_VERDICT_DROP };
}

static inline struct vd_verdict vd_verdict_repeat(void)
{
	return (struct vd_verdict){ .kind = VD_VERDICT_REPEAT };
}

/* Queue to queue_num; with bypass the kernel accepts the packet when no
 * program is bound to that queue instead of dropping it. */
static inline struct vd_verdict vd_verdict_queue(uint16_t queue_num, bool bypass)
{
	return (struct vd_verdict){ .kind = VD_VERDICT_QUEUE,
				    .flags = bypass ? VD_VERDICT_F_BYPASS : 0,
				    .queue = queue_num };
}

/* Reject the packet, answering the sender as with says (enum
 * vd_reject_with). */
static inline struct vd_verdict vd_verdict_reject(enum vd_reject_with with)
{
	return (struct vd_verdict){ .kind = VD_VERDICT_REJECT, .queue = (uint16_t)with };
}

/* Returns v (accept, drop or reject, possibly with a mark) applied to the
 * rest of the packet's connection in the kernel: verdictd sees no more of
 * it. Any other kind with this flag is an invalid verdict (sent as drop). */
static inline struct vd_verdict vd_verdict_connection(struct vd_verdict v)
{
	v.flags |= VD_VERDICT_F_CONNECTION;
	return v;
}

/* Returns v that also sets the mark bits selected by mask to value. */
static inline struct vd_verdict vd_verdict_with_mark(struct vd_verdict v, uint32_t value,
						     uint32_t mask)
{
	v.flags |= VD_VERDICT_F_MARK;
	v.mark = value;
	v.mark_mask = mask;
	return v;
}

/* Returns v held for ns nanoseconds first (rounded up to microseconds, at
 * most VD_VERDICT_MAX_DELAY_US): the engine keeps the packet's id in a
 * per-worker timer and sends v when the time comes. Only for verdicts that
 * let the packet go on or drop it (accept, repeat, queue, drop), without
 * VD_VERDICT_F_CONNECTION: a reject or connection verdict goes at once. */
static inline struct vd_verdict vd_verdict_delay(struct vd_verdict v, uint64_t ns)
{
	uint64_t us = ns / 1000 + (ns % 1000 != 0);

	v.delay_us = us > VD_VERDICT_MAX_DELAY_US ? VD_VERDICT_MAX_DELAY_US : (uint32_t)us;
	return v;
}

/* The stream model: the callback keeps the packet's id and answers later
 * with vd_queue_verdict. */
static inline struct vd_verdict vd_verdict_pending(void)
{
	return (struct vd_verdict){ .kind = VD_VERDICT_PENDING };
}

static inline bool vd_verdict_equal(struct vd_verdict a, struct vd_verdict b)
{
	return a.kind == b.kind && a.flags == b.flags && a.queue == b.queue &&
	       a.mark == b.mark && a.mark_mask == b.mark_mask && a.delay_us == b.delay_us;
}

/* "accept", "drop", "queue", "repeat", "reject" or "unknown". Never NULL. */
const char *vd_verdict_kind_name(uint8_t kind);

/* Parses "accept", "drop", "repeat" or "reject" (the verdicts that need no
 * argument; "reject" gives vd_verdict_reject(VD_REJECT_DEFAULT)).
 * Returns 0, or -1 with errno EINVAL for anything else. */
int vd_verdict_parse(const char *name, struct vd_verdict *out);

#ifdef __cplusplus
}
#endif

#endif
