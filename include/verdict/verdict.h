/*
 * verdict/verdict.h - the verdict a callback or hook returns for one packet.
 *
 * A struct vd_verdict is small (12 bytes) and returned by value, so a
 * callback costs no allocation. Kinds carry the kernel's NF_* numbers so the
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
};

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

static inline bool vd_verdict_equal(struct vd_verdict a, struct vd_verdict b)
{
	return a.kind == b.kind && a.flags == b.flags && a.queue == b.queue &&
	       a.mark == b.mark && a.mark_mask == b.mark_mask;
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
