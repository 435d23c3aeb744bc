/*
 * offload_nft.h - a planned rule (offload_plan.h) as nft rules in a base
 * chain of table inet verdictd (firewall_nft.h's step 4): one rule per family
 * the plan matches, its lists as anonymous sets, tagged `counter` and
 * `comment "verdictd rule N"` so that vd_offload_counters_nft_parse
 * (firewall_offload.h) reads its hits back. Private to firewall_offload.c.
 */
#ifndef VD_OFFLOAD_NFT_H
#define VD_OFFLOAD_NFT_H

#include <stdio.h>

#include "offload_plan.h"

/* Writes the nft rules of rule r, planned in pl (vd_offload_plan_rule
 * returned 0), as tab-indented lines of a base chain; out NULL: count only.
 * Returns the rules: per family that matches one, or two for a tcp-reset
 * reject of TCP and other protocols (nft resets TCP only: the others get
 * port unreachable, as in the iptables flavour). */
unsigned vd_offload_nft_rule(FILE *out, const struct vd_offload_planner *pl, const struct vd_rule *r);

#endif
