/*
 * verdict/kernel_mark.h - the packet and connection mark bits verdictd's
 * generated kernel rules act on (verdictd --print-firewall / --firewall).
 *
 * NFQUEUE has four verdicts (drop, accept, queue, repeat); it cannot reject a
 * packet, and on this class of kernel (no CONFIG_NETFILTER_NETLINK_GLUE_CT) a
 * verdict cannot set the connection mark. So verdictd carries out reject and
 * "decide the rest of the connection" (bypass) the way Suricata's bypass mode
 * does: it answers REPEAT with a code in a 4-bit field of the packet mark; the
 * packet re-enters the same hook, and verdictd's own chain, at its top, acts
 * on the code (REJECT, ACCEPT, DROP, or skip the queue rule) and, when the
 * code has VD_KMARK_CONN set, first saves the field into the connection mark
 * (CONNMARK --save-mark), where later packets of the connection meet it
 * before the queue rule.
 *
 * The field is the 4 contiguous bits of a mask chosen with --bypass-mark
 * (default VD_KMARK_DEFAULT_MASK); a code c is stored as c << ctz(mask). The
 * rest of the mark stays the user's: a rule's own mark may not overlap it.
 */
#ifndef VERDICT_KERNEL_MARK_H
#define VERDICT_KERNEL_MARK_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The default field: bits 24-27. */
#define VD_KMARK_DEFAULT_MASK 0x0f000000u

/* Codes (the field's value, before shifting). The low 3 bits say what to do,
 * VD_KMARK_CONN says "and remember it for the connection". */
enum vd_kmark_code {
	VD_KMARK_NONE = 0,          /* not verdictd's: queue as usual */
	VD_KMARK_ACCEPT = 1,        /* accept (with CONN: the rest of the connection) */
	VD_KMARK_DROP = 2,          /* drop (with CONN: the rest of the connection) */
	VD_KMARK_PASS = 3,          /* loop guard: a repeat verdict re-entering the
				     * hook skips verdictd's queue rule and goes on
				     * through the rest of the host's rules */
	VD_KMARK_REJECT_PORT = 4,   /* REJECT --reject-with icmp-port-unreachable
				     * (icmp6-port-unreachable): iptables' default */
	VD_KMARK_REJECT_RESET = 5,  /* tcp-reset (non-TCP packets: port unreachable) */
	VD_KMARK_REJECT_ADMIN = 6,  /* icmp-admin-prohibited (icmp6-adm-prohibited) */
	VD_KMARK_REJECT_HOST = 7,   /* icmp-host-unreachable (icmp6-addr-unreachable) */
	VD_KMARK_CONN = 8,          /* flag: save the field to the connection mark */
	/* --- added in 0.5 --- */
	VD_KMARK_PAST = VD_KMARK_CONN | VD_KMARK_PASS, /* a connection past --first-packets
				     * N: accepted by the kernel's first rule. Set by
				     * the generated rules on its N+1st packet, never
				     * by a verdict (a repeat verdict cannot decide a
				     * connection). */
};

#define VD_KMARK_ACTION_MASK 7u

/* True when mask is 4 contiguous set bits (a valid --bypass-mark). */
static inline bool vd_kmark_mask_valid(uint32_t mask)
{
	if (mask == 0)
		return false;
	return mask >> __builtin_ctz(mask) == 0xfu;
}

/* The code c placed in the field of mask (mask must be valid). */
static inline uint32_t vd_kmark_value(uint32_t mask, unsigned c)
{
	return ((uint32_t)c << __builtin_ctz(mask)) & mask;
}

#ifdef __cplusplus
}
#endif

#endif
