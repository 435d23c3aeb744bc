/*
 * rule_rewrite.h - a rule's declarative rewrite, `set = { ttl = 7, ... }`:
 * read from the rules file (with the loader's one-line errors), applied to a
 * packet's edit by the rule table, printed and checked for --check.
 *
 * The keys: ttl, dscp, ecn, src, dst, sport, dport, tcp_flags, mss, df
 * (struct vd_rule_rewrite in rule.h). They are applied in one fixed order,
 * whatever the order in the file: addresses, ports, ttl, dscp, ecn, df,
 * tcp_flags, mss.
 */
#ifndef VD_RULE_REWRITE_H
#define VD_RULE_REWRITE_H

#include <stdio.h>

#include <verdict/edit.h>

#include "rule.h"

struct loader;

/* Reads the `set` table at the top of ld->L's stack into *set (the stack
 * left as found). Returns 0, or -1 after vd_rule_fail, its key named
 * "set.KEY". */
int vd_rule_rewrite_read(struct loader *ld, struct vd_rule_rewrite *set);

/* Once the whole rule is read: refuses a set address whose family the
 * rule's src/dst match (or the other set address) contradicts, since such
 * a rewrite could only ever be refused. 0, or -1 after vd_rule_fail. */
int vd_rule_rewrite_check(struct loader *ld, const struct vd_rule *r);

/* Applies set to edit in the fixed order; stops at the first refusal and
 * returns its negative errno (edit->reason says why; the edits made before
 * it stay in the buffer, for the caller to discard). 0 when all applied.
 * Hot path: no allocation, no lock, no syscall. */
int vd_rule_rewrite_apply(const struct vd_rule_rewrite *set, struct vd_packet_edit *edit);

/* " ttl=7 dscp=46 ..." in the fixed order, for --check. */
void vd_rule_rewrite_print(const struct vd_rule_rewrite *set, FILE *out);

/* "warning: ..." lines for the parts of r's set that can only be refused
 * or never apply, given what r matches and its verdict. */
void vd_rule_rewrite_warn(const struct vd_rule *r, FILE *out);

#endif
