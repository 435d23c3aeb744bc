/*
 * verdict/verdict.h - the verdict a callback or hook returns for one packet.
 *
 * A struct vd_verdict is small (16 bytes, two registers) and returned by
 * value, so a callback costs no allocation. Kinds carry the kernel's NF_* numbers so the
 * engine passes them to NFQUEUE without translation.
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
};

/* The longest delay a verdict carries: about 71 minutes. */
#define VD_VERDICT_MAX_DELAY_US UINT32_MAX

/* vd_verdict.flags */
enum vd_verdict_flag {
	VD_VERDICT_F_MARK = 1u << 0,   /* set the packet mark (mark, mark_mask) */
	VD_VERDICT_F_BYPASS = 1u << 1, /* QUEUE only: accept if nobody listens */
};

struct vd_verdict {
	uint8_t kind;       /* enum vd_verdict_kind */
	uint8_t flags;      /* enum vd_verdict_flag */
	uint16_t queue;     /* target queue for VD_VERDICT_QUEUE */
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
 * let the packet go on or drop it (accept, repeat, queue, drop). */
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

/* "accept", "drop", "queue", "repeat" or "unknown". Never NULL. */
const char *vd_verdict_kind_name(uint8_t kind);

/* Parses "accept", "drop" or "repeat" (the verdicts that need no argument).
 * Returns 0, or -1 with errno EINVAL for anything else. */
int vd_verdict_parse(const char *name, struct vd_verdict *out);

#ifdef __cplusplus
}
#endif

#endif
