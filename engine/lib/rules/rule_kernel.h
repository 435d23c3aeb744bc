/*
 * rule_kernel.h - the rules file's verdicts that verdictd's generated kernel
 * rules carry out (verdict/kernel_mark.h): `verdict = "reject"` with its
 * `reject_with`, and `bypass = true` on accept, drop or reject (decide the
 * rest of the connection in the kernel), with what they cannot go with.
 * Private to the loader (rule_load.c).
 */
#ifndef VD_RULE_KERNEL_H
#define VD_RULE_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "rule_values.h"

/* The value of `reject_with` (at the top of the stack) into *with (enum
 * vd_reject_with). 0, or -1 after vd_rule_fail. */
int vd_rule_kernel_read_reject_with(struct loader *ld, uint16_t *with);

/* Once r's verdict is built (mark included): connection says the rule
 * asked for `bypass = true` on a verdict other than queue. Sets
 * VD_VERDICT_F_CONNECTION, and refuses (-1 after vd_rule_fail, naming the
 * key) a bypass on repeat, a hook or a logs entry, a reject or bypass with
 * `set` or a shaping key (the kernel acts at once, on the packet as it
 * came), and a mark that sets bits of ld->kernel_mark_mask. */
int vd_rule_kernel_check(struct loader *ld, struct vd_rule *r, bool connection);

/* Whether the rule's verdict needs the generated kernel rules (reject, or a
 * connection decision). */
bool vd_rule_kernel_needed(const struct vd_rule *r);

#endif
