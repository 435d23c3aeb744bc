/*
 * offload_plan.h - one rule of the table as kernel matches, or the reason it
 * stays in verdictd (offload_plan.c); firewall_offload.c writes the plans.
 * Private to those two files.
 */
#ifndef VD_OFFLOAD_PLAN_H
#define VD_OFFLOAD_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firewall_offload.h"
#include "internal.h"

#define FRAG_LEN 64 /* one match: "-s 2001:db8::/32", "--dport 1000:2000" */

/* One match list of a plan: each item a fragment of an iptables rule, its
 * option, a space and its value ("-s 198.18.0.0/15"; offload_nft.c takes
 * the value); `any`: the rule does not constrain it (one iteration with no
 * fragment). */
struct vd_offload_frags {
	bool any;
	size_t n;
	char s[VD_OFFLOAD_MAX_EXPANSION][FRAG_LEN];
	/* An address list of more than VD_OFFLOAD_MAX_EXPANSION prefixes, with
	 * ctx->nft: one nft anonymous set holds them (n is 1, s[0] the
	 * option alone); its prefixes are set_dim's in family set_family
	 * (vd_offload_prefixes). NULL: none. */
	const struct vd_rule_dim_spec *set_dim;
	int set_family;
};

/* A verdictd rule in one family: the product of its lists is its kernel
 * rules; tcp, icmp and tail go into every one of them. */
struct vd_offload_plan {
	bool matches;                 /* false: no packet of the family can match */
	unsigned expansion;           /* kernel rules (a MARK rule not counted) */
	bool proto_any;
	size_t nproto;
	uint8_t proto[VD_OFFLOAD_MAX_EXPANSION];
	struct vd_offload_frags src, dst, iif, oif, sport, dport;
	char tcp[96];                 /* --tcp-flags, for -p tcp */
	char icmp[64];                /* --icmp-type / --icmpv6-type */
	char tail[320];               /* owner, mark, conntrack, length */
	char ct_states[64];           /* --ctstate's list ("NEW,ESTABLISHED"), or "" */
};

/* Both families' plans of a rule, and why it stays in verdictd. */
struct vd_offload_planner {
	const struct vd_firewall_offload *ctx;
	enum vd_offload_hook hook;
	struct vd_offload_plan fam[2];           /* [0] IPv4, [1] IPv6 */
	char why[200];
};

/* Calls fn with each prefix ("198.18.0.0/15") of address dimension d in
 * family f (4 or 6), each range cut into the fewest aligned blocks, up to
 * limit of them; fn may be NULL. Returns the prefixes, limit + 1 when there
 * are more than limit. */
typedef void (*vd_offload_prefix_fn)(const char *prefix, void *arg);
size_t vd_offload_prefixes(const struct vd_rule_dim_spec *d, int f, size_t limit,
			   vd_offload_prefix_fn fn, void *arg);

/* Items in a list (1 for a list that is not constrained). */
size_t vd_offload_frags_count(const struct vd_offload_frags *f);

/* Plans rule r in both families into pl->fam; -1 with pl->why when it
 * stays in verdictd. */
int vd_offload_plan_rule(struct vd_offload_planner *pl, const struct vd_rule *r);

#endif
