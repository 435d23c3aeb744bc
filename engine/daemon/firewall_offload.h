/*
 * firewall_offload.h - the leading rules of the table that the kernel can
 * evaluate itself, written as iptables rules placed before verdictd's queue
 * rule (step 6 of the chain firewall.h describes), so that the packets they
 * decide are never queued.
 *
 * First-match order is kept exactly: the run is the longest prefix of the
 * table whose every rule iptables can match and act on with the same result
 * verdictd would give, for every packet (no packet more, no packet less:
 * a packet one kernel rule misses would meet the next kernel rule first).
 * The first rule that needs user space ends the run; --check says why.
 *
 * Each verdictd rule becomes zero or more iptables rules per family (one
 * per combination of protocol, address prefix, port range and interface),
 * each tagged -m comment --comment "verdictd rule N" (N: the rule's place in
 * the file); a rule with a mark gets a MARK --set-xmark rule first, with the
 * same matches. The nft flavour writes the same run (the same plans) as one
 * nft rule per verdictd rule and family (offload_nft.h), tagged comment
 * "verdictd rule N", its mark set in the same rule. The kernel's counters
 * of the tagged rules are read back (iptables-save -c, or nft list ruleset inet)
 * and added to the rules' hits in the stats.
 *
 * Threading: write, check and prepare run on the thread that loads or
 * reloads the table (one at a time); add_hits on any thread (the stats); the
 * counter state is under ctx->lock.
 */
#ifndef VD_FIREWALL_OFFLOAD_H
#define VD_FIREWALL_OFFLOAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <verdict/rules.h>

/* The hook a chain hangs off: what a rule may match there (-i, -o, owner). */
enum vd_offload_hook {
	VD_OFFLOAD_INPUT,
	VD_OFFLOAD_FORWARD,
	VD_OFFLOAD_OUTPUT,
};

/* Kernel rules one verdictd rule may become in one family (products of
 * protocols, prefixes, ports and interfaces). Past it the rule stays in
 * verdictd, where a set of any size costs one lookup: a long linear list
 * of kernel rules would cost every packet more than the queue does. */
#define VD_OFFLOAD_MAX_EXPANSION 64

/* A counted name: the kernel hits of rules of earlier rule sets (folded in
 * when a set is replaced, which zeroes the kernel's counters). */
struct vd_offload_base {
	char name[64];
	uint64_t hits;
};

struct vd_firewall_offload {
	struct vd_rules *rules;     /* the live table (not owned) */
	enum vd_offload_hook hook;  /* for a chain whose name does not end in a hook */
	uint32_t kmark_mask;        /* verdictd's code field (kernel_mark.h): a rule's
				     * mark may not touch it; 0: no field */
	bool no_conntrack;          /* queues without conntrack information: to
				     * verdictd every packet is ct_state "invalid" */
	bool no_uid_gid;            /* queues without uid/gid: uid/gid never match */
	bool nft;                   /* the nft flavour: counters from table inet
				     * verdictd, and an address list of more than
				     * VD_OFFLOAD_MAX_EXPANSION prefixes is one
				     * anonymous set in its rule (iptables would
				     * need an ipset, see offload_plan.c). Written
				     * under lock before each prepare, by the thread
				     * that plans */
	bool netlink;               /* counters read with an nf_tables rule dump,
				     * not a tool (no legacy iptables; under lock) */
	/* Counters (under lock): the rule names of the installed set by their
	 * number, and what replaced sets counted. */
	pthread_mutex_t lock;
	char (*names)[64];
	size_t nnames;
	uint64_t *pending;          /* per name: folded by prepare, until commit */
	uint64_t read_errors;       /* kernel counter reads that failed */
	bool read_failing;          /* the last read failed (its error logged once) */
	struct vd_offload_base *base;
	size_t nbase;
};

/* Sets the counter state up (ctx's other fields are the caller's). */
void vd_firewall_offload_init(struct vd_firewall_offload *ctx);
void vd_firewall_offload_fini(struct vd_firewall_offload *ctx);

/* Appends the offloaded rules of ctx->rules' live table to chain for
 * family (AF_INET: iptables, AF_INET6: ip6tables) as iptables-restore
 * "-A chain ..." lines. The hook is the chain's name's suffix (-INPUT,
 * -FORWARD, -OUTPUT), else ctx->hook. Returns the lines written. The
 * signature is firewall.h's vd_firewall_offload_fn. */
unsigned vd_firewall_offload_write(FILE *out, const char *chain, int family, void *ctx);

/* The same run for nft: tab-indented rules of the base chain of hook (a
 * VD_FW_HOOK_* bit) of table inet verdictd. Returns the rules written. The
 * signature is firewall.h's vd_firewall_offload_nft_fn. */
unsigned vd_firewall_offload_write_nft(FILE *out, unsigned hook, void *ctx);

/* One line for --check: which rules the kernel would evaluate in hook, and
 * why the first one that stays in verdictd does. */
void vd_firewall_offload_check(struct vd_firewall_offload *ctx, enum vd_offload_hook hook,
			       FILE *out);

/* The name of hook ("input"). */
const char *vd_offload_hook_name(enum vd_offload_hook hook);

/* --- counters (offload_counters.c) --- */

/* Around each install, replace or removal of the kernel rules (start-up, a
 * reload, exit), which zeroes the kernel's counters: prepare, just before,
 * folds what the kernel counted for the installed set into the base; commit
 * after it, with whether the change took, either remembers the live table's
 * names for the set now in the kernel (nothing offloaded after a removal:
 * none are found, the base remains) or takes the fold back (the old set
 * stays and counts on). Packets counted between the two are lost: a few at
 * most. Return 0, or -1 with a message logged (counts are then short). */
int vd_firewall_offload_prepare(struct vd_firewall_offload *ctx);
int vd_firewall_offload_commit(struct vd_firewall_offload *ctx, bool installed);

/* Sets where the counters are read from (the firewall's flavour and backend);
 * before each prepare. */
void vd_firewall_offload_source(struct vd_firewall_offload *ctx, bool nft, bool netlink);

/* Kernel counter reads that failed so far (each logged only when the one
 * before it succeeded). */
uint64_t vd_firewall_offload_read_errors(struct vd_firewall_offload *ctx);

/* Adds the kernel's hits of the offloaded rules (read now, both families,
 * every hook: with ctx->netlink an nf_tables rule dump of table ip and ip6
 * filter, or of table inet verdictd with ctx->nft; else iptables-save -c and
 * ip6tables-save -c, the legacy backend's; a missing table is no error) and
 * of replaced sets
 * to st[0..n) (vd_rules_stats' array: st[0] the default, matched by name).
 * Returns 0, or -1 when a tool could not be read (st gets what was read). */
int vd_firewall_offload_add_hits(struct vd_firewall_offload *ctx, struct vd_rule_stats *st,
				 size_t n);

/* Adds to hits[N - 1] the packet counter of each line of an
 * "iptables-save -c" text whose chain is verdictd's (VERDICTD-*), whose
 * comment is "verdictd rule N" (N <= n) and whose target is not MARK (the
 * MARK rule sees the same packets as the verdict rule after it). Returns
 * the lines counted. */
size_t vd_offload_counters_parse(const char *text, uint64_t *hits, size_t n);

/* The same for an "nft list ruleset inet" text: adds the
 * packets of each rule line of table inet verdictd with "counter packets P"
 * and comment "verdictd rule N" (N <= n). A rule's mark is set in its own
 * rule: nothing to leave out. */
size_t vd_offload_counters_nft_parse(const char *text, uint64_t *hits, size_t n);

/* --- the same from netlink (offload_netlink.c) --- */

/* Adds to hits[N - 1] the packet counter of each rule of an nf_tables rule
 * dump (NFT_MSG_NEWRULE messages, len bytes of buf) that belongs to table
 * ip/ip6 filter and a VERDICTD-* chain (table inet verdictd with nft), has a
 * counter and the comment "verdictd rule N" (N <= n; an -m comment match or
 * the rule's user data), and does not only set the mark (an xtables MARK
 * target, or a meta set without a verdict: the verdict rule after it sees
 * the same packets). Returns the rules counted. */
size_t vd_offload_counters_nl_parse(const void *buf, size_t len, bool nft, uint64_t *hits,
				    size_t n);

/* Dumps the rules of table ip and ip6 filter (inet verdictd with nft) and
 * adds their counts to hits[0..n) as vd_offload_counters_nl_parse does. A
 * dump the kernel marks interrupted (a replace during it) is tried again.
 * Returns 0, or -1 with err set (hits then unchanged). Needs CAP_NET_ADMIN. */
int vd_offload_counters_netlink(bool nft, uint64_t *hits, size_t n, char *err, size_t errlen);

#endif
