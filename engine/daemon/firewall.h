/*
 * firewall.h - verdictd's own kernel rules as text (--print-firewall, and
 * what --firewall installs): one iptables-restore --noflush file per address
 * family, table filter, a chain VERDICTD-<HOOK> per hook and the jump to it
 * at position 1 of the built-in chain. The layout and the mark codes are
 * verdict/kernel_mark.h's; the order inside each chain is:
 *
 *  0. the fast path, for packets with no code (most of a long flow): a
 *     connection marked PAST (--first-packets N: past its Nth packet):
 *     ACCEPT; a connection decided "accept" (bypass): ACCEPT; then, with
 *     --first-packets, the connection's N+1st packet marks it PAST and goes
 *     on (VERDICTD-DECIDED has no rule for PAST; 3 accepts it). Exactly
 *     what 1-3 would do with these packets, in one rule where 1-3 take four
 *     (first packets) or five (bypass, through DECIDED).
 *  1. loop guard: a packet marked PASS (a repeat verdict) returns unqueued
 *  2. a code on the packet or its connection: to VERDICTD-DECIDED, shared
 *     by the hooks, which holds CONNMARK --save-mark for packets whose code
 *     has VD_KMARK_CONN, then the connection codes, then the packet codes:
 *     ACCEPT, DROP, REJECT (--reject-with per code)
 *  3. --first-packets N: the N+1st packet of a connection on is accepted
 *     (what 0 left: a code VERDICTD-DECIDED did not act on)
 *  4. offloaded rules (vd_firewall_offload_fn), if any
 *  5. NFQUEUE (--queue-balance for several queues), --queue-bypass always
 *
 * Pure text: nothing here runs a tool (firewall_install.h does).
 */
#ifndef VD_FIREWALL_H
#define VD_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The hooks verdictd's chains hang off (--hooks). */
enum vd_firewall_hook {
	VD_FW_HOOK_INPUT = 1u << 0,
	VD_FW_HOOK_FORWARD = 1u << 1,
	VD_FW_HOOK_OUTPUT = 1u << 2,
};
#define VD_FW_HOOK_COUNT 3

/* Appends offloaded rules ("-A CHAIN ..." lines, each tagged -m comment
 * --comment "verdictd rule N") to chain for family (AF_INET or AF_INET6),
 * between the first-packets rule and the queue rule. Returns how many it
 * wrote. Called once per chain and family, in that order. */
typedef unsigned (*vd_firewall_offload_fn)(FILE *out, const char *chain, int family, void *ctx);

/* The nft flavour's (firewall_nft.h): appends the offloaded rules of both
 * families to the base chain of hook (a VD_FW_HOOK_* bit), as tab-indented
 * lines, at the same place. Returns how many it wrote. */
typedef unsigned (*vd_firewall_offload_nft_fn)(FILE *out, unsigned hook, void *ctx);

struct vd_firewall_config {
	uint16_t queue_first;     /* the queues: queue_first .. queue_first + nqueues - 1 */
	unsigned nqueues;
	unsigned hooks;           /* enum vd_firewall_hook bits, at least one */
	uint32_t mark_mask;       /* the code field, vd_kmark_mask_valid */
	unsigned first_packets;   /* 0: every packet is queued */
	vd_firewall_offload_fn offload; /* NULL: nothing offloaded (iptables) */
	vd_firewall_offload_nft_fn offload_nft; /* NULL: nothing offloaded (nft) */
	void *offload_ctx;              /* both's */
};

/* "input,forward,output" (any non-empty subset, any order) into *hooks.
 * -1 on anything else. */
int vd_firewall_hooks_parse(const char *s, unsigned *hooks);

/* The built-in chain of a single hook bit ("INPUT"), and verdictd's chain
 * for it ("VERDICTD-INPUT"). */
const char *vd_firewall_hook_chain(unsigned hook);
const char *vd_firewall_own_chain(unsigned hook);

/* What REJECT answers for a reject code (VD_KMARK_REJECT_*; verdict.h's
 * vd_reject_with w is code VD_KMARK_REJECT_PORT + w) in family (AF_INET,
 * AF_INET6), as --reject-with takes it. tcp: the rule has -p tcp, which
 * tcp-reset needs; without it RESET answers with port unreachable. */
const char *vd_firewall_reject_with(unsigned code, int family, bool tcp);

/* The backend a `TOOL -V` line names into out (len bytes): "nf_tables" for
 * "iptables v1.8.9 (nf_tables)", "legacy" for "... (legacy)"; "unknown"
 * when the line has no parenthesised word. The same tool name writes either
 * to nf_tables or to the older xtables (update-alternatives picks), and the
 * two sets of tables are separate: error lines say which one was used. */
void vd_firewall_backend_parse(const char *version, char *out, size_t len);

/* Queue numbers (the order given) as a contiguous range: fills
 * cfg->queue_first and cfg->nqueues. -1 when they are not contiguous: one
 * NFQUEUE rule can only spread over a range. */
int vd_firewall_queues_set(struct vd_firewall_config *cfg, const unsigned *queues, size_t n);

/* Writes the file for family (AF_INET: iptables-restore, AF_INET6:
 * ip6tables-restore): "*filter", the chains (a declaration flushes a chain
 * that exists, so loading it replaces a previous set), their rules, a jump
 * "-I <HOOK> 1" for each hook bit in jumps, "COMMIT". Returns 0, or -1 when
 * out fails (ferror). */
int vd_firewall_write(FILE *out, const struct vd_firewall_config *cfg, int family,
		      unsigned jumps);

/* The file that removes it again: for each hook of cfg, the jump when its
 * bit is in jumps (the caller checked it is there), the chain's rules and
 * the chain; with shared, then VERDICTD-DECIDED too (only when no hook
 * chain of verdictd's is left to refer to it). */
int vd_firewall_write_removal(FILE *out, const struct vd_firewall_config *cfg, unsigned jumps,
			      bool shared);

#endif
