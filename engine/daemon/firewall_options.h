/*
 * firewall_options.h - the generated kernel rules as the daemon's options
 * and rules file ask for them: --print-firewall, and the set --firewall
 * installs at start-up and replaces after each reload.
 */
#ifndef VD_FIREWALL_OPTIONS_H
#define VD_FIREWALL_OPTIONS_H

#include <stdio.h>

#include <verdict/rules.h>

#include "cli.h"
#include "firewall.h"
#include "firewall_install.h"
#include "firewall_offload.h"

/* The set for o: its queues, hooks and mark mask; --first-packets, else
 * the rules' first_packets (rules may be NULL). o passed vd_cli_parse. */
void vd_firewall_config_from(const struct vd_cli_options *o, struct vd_rules *rules,
			     struct vd_firewall_config *cfg);

/* The kernel offload of rules for o (vd_firewall_offload_init'ed): the mark
 * field, what the queues deliver. */
void vd_firewall_offload_from(const struct vd_cli_options *o, struct vd_rules *rules,
			      struct vd_firewall_offload *off);

/* --print-firewall: loads --rules (for its first_packets) and prints the
 * families asked for to out. Returns the exit status: 0, or 2 when the rules
 * file does not load (the error printed to stderr). */
int vd_firewall_print(const struct vd_cli_options *o, FILE *out);

/* --firewall: installs the set for o and rules (at start-up, once the
 * queues are bound), or replaces fw's by it (after a reload), with the
 * leading rules offload (may be NULL) finds kernel-evaluable, and logs what
 * is in the kernel now. 0; or -1 with err filled, the kernel's rules as
 * they were (vd_firewall_install). Main thread. */
int vd_firewall_apply(struct vd_firewall *fw, const struct vd_cli_options *o,
		      struct vd_rules *rules, struct vd_firewall_offload *offload, char *err,
		      size_t errlen);

#endif
