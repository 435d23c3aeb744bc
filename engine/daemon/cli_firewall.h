/*
 * cli_firewall.h - the command line's options for verdictd's generated
 * kernel rules (--firewall, --print-firewall, --hooks, --first-packets,
 * --bypass-mark), parsed into struct vd_cli_options by cli.c.
 */
#ifndef VD_CLI_FIREWALL_H
#define VD_CLI_FIREWALL_H

#include <getopt.h>
#include <stdio.h>

#include "cli.h"

/* getopt_long values, above cli.c's own. */
enum {
	VD_CLI_OPT_FIREWALL = 1024,
	VD_CLI_OPT_PRINT_FIREWALL,
	VD_CLI_OPT_HOOKS,
	VD_CLI_OPT_FIRST_PACKETS,
	VD_CLI_OPT_BYPASS_MARK,
	VD_CLI_OPT_FIREWALL_END,
};

#define VD_CLI_FIREWALL_LONG_OPTIONS                                                     \
	{ "firewall", required_argument, NULL, VD_CLI_OPT_FIREWALL },                    \
	{ "print-firewall", optional_argument, NULL, VD_CLI_OPT_PRINT_FIREWALL },        \
	{ "hooks", required_argument, NULL, VD_CLI_OPT_HOOKS },                          \
	{ "first-packets", required_argument, NULL, VD_CLI_OPT_FIRST_PACKETS },          \
	{ "bypass-mark", required_argument, NULL, VD_CLI_OPT_BYPASS_MARK }

/* The help text's section. */
extern const char vd_cli_firewall_help[];

/* One of the options above; arg is optarg. Prints one error line to err. */
enum vd_cli_action vd_cli_firewall_option(int opt, const char *arg, struct vd_cli_options *o,
					  FILE *err);

/* Once every option is read: what the options need of each other, and the
 * defaults (hooks: input; the mark mask with --firewall or --print-firewall). */
enum vd_cli_action vd_cli_firewall_finish(struct vd_cli_options *o, FILE *err);

#endif
