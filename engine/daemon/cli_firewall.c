/* cli_firewall.c - options of the generated kernel rules (cli_firewall.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <verdict/kernel_mark.h>

#include "cli_firewall.h"
#include "firewall_install.h"

/* Where rules.h's loader stops too. */
#define FIRST_PACKETS_MAX 1000000ul

const char vd_cli_firewall_help[] =
	"Kernel rules (README \"Rules in the kernel\"):\n"
	"      --firewall iptables|nft|auto  install verdictd's own rules once the queues\n"
	"                          are bound, replace them on every reload, remove them\n"
	"                          on exit (auto: iptables when installed, else nft)\n"
	"      --print-firewall[=ip4|ip6|nft]  print those rules (iptables-restore\n"
	"                          --noflush files: the IPv4 one, then the IPv6 one;\n"
	"                          nft: one nft -f file) and exit\n"
	"      --hooks LIST        input,forward,output: where packets are queued (input)\n"
	"      --first-packets N   queue only the first N packets of each connection\n"
	"                          (overrides the rules file's first_packets)\n"
	"      --bypass-mark MASK  the 4 contiguous mark bits the rules act on\n"
	"                          (default 0x0f000000)\n";

static enum vd_cli_action fw_error(FILE *err, const char *opt, const char *arg, const char *why)
{
	fprintf(err, "verdictd: %s: \"%s\" %s (see verdictd --help)\n", opt, arg, why);
	return VD_CLI_EXIT_USAGE;
}

/* A whole number, decimal or 0x hex. */
static int parse_number(const char *arg, unsigned long max, unsigned long *v)
{
	char *end;

	if (!*arg || *arg == '-' || *arg == '+')
		return -1;
	errno = 0;
	*v = strtoul(arg, &end, 0);
	return errno || *end || *v > max ? -1 : 0;
}

enum vd_cli_action vd_cli_firewall_option(int opt, const char *arg, struct vd_cli_options *o,
					  FILE *err)
{
	unsigned long v;

	switch (opt) {
	case VD_CLI_OPT_FIREWALL:
		if (strcmp(arg, "iptables") == 0)
			o->firewall = VD_FW_FLAVOUR_IPTABLES;
		else if (strcmp(arg, "nft") == 0)
			o->firewall = VD_FW_FLAVOUR_NFT;
		else if (strcmp(arg, "auto") == 0)
			o->firewall = VD_FW_FLAVOUR_AUTO;
		else
			return fw_error(err, "--firewall", arg, "is not iptables, nft or auto");
		return VD_CLI_RUN;
	case VD_CLI_OPT_PRINT_FIREWALL:
		if (!arg)
			o->print_firewall = VD_CLI_PRINT_IP4 | VD_CLI_PRINT_IP6;
		else if (strcmp(arg, "ip4") == 0)
			o->print_firewall = VD_CLI_PRINT_IP4;
		else if (strcmp(arg, "ip6") == 0)
			o->print_firewall = VD_CLI_PRINT_IP6;
		else if (strcmp(arg, "nft") == 0)
			o->print_firewall = VD_CLI_PRINT_NFT;
		else
			return fw_error(err, "--print-firewall", arg, "is not ip4, ip6 or nft");
		return VD_CLI_RUN;
	case VD_CLI_OPT_HOOKS:
		if (vd_firewall_hooks_parse(arg, &o->hooks) < 0)
			return fw_error(err, "--hooks", arg,
					"is not a list of input, forward, output");
		return VD_CLI_RUN;
	case VD_CLI_OPT_FIRST_PACKETS:
		if (parse_number(arg, FIRST_PACKETS_MAX, &v) < 0 || v == 0)
			return fw_error(err, "--first-packets", arg, "is not a number from 1 to 1000000");
		o->first_packets = (unsigned)v;
		return VD_CLI_RUN;
	default: /* VD_CLI_OPT_BYPASS_MARK */
		if (parse_number(arg, UINT32_MAX, &v) < 0 || !vd_kmark_mask_valid((uint32_t)v))
			return fw_error(err, "--bypass-mark", arg,
					"is not 4 contiguous mark bits (e.g. 0x0f000000, 0xf0)");
		o->kernel_mark_mask = (uint32_t)v;
		o->kernel_mark_mask_explicit = true;
		return VD_CLI_RUN;
	}
}

static enum vd_cli_action needs(FILE *err, const char *what)
{
	fprintf(err, "verdictd: %s: needs the generated kernel rules (--firewall, or "
		"--print-firewall and load its output) (see verdictd --help)\n", what);
	return VD_CLI_EXIT_USAGE;
}

enum vd_cli_action vd_cli_firewall_finish(struct vd_cli_options *o, FILE *err)
{
	struct vd_firewall_config cfg;
	bool generated = o->firewall || o->print_firewall;

	if (o->firewall && o->print_firewall) {
		fprintf(err, "verdictd: --firewall and --print-firewall: give one (see verdictd "
			"--help)\n");
		return VD_CLI_EXIT_USAGE;
	}
	if (!generated && o->hooks)
		return needs(err, "--hooks");
	if (!generated && o->first_packets)
		return needs(err, "--first-packets");
	if (!generated)
		return VD_CLI_RUN;
	if (o->nqueues == 0) {
		fprintf(err, "verdictd: --%s needs --queue SPEC: the queues its rules send to "
			"(see verdictd --help)\n", o->firewall ? "firewall" : "print-firewall");
		return VD_CLI_EXIT_USAGE;
	}
	if (vd_firewall_queues_set(&cfg, o->queues, o->nqueues) < 0) {
		fprintf(err, "verdictd: --queue: the generated rules need contiguous queue "
			"numbers, as one NFQUEUE --queue-balance A:B rule spreads over (see "
			"verdictd --help)\n");
		return VD_CLI_EXIT_USAGE;
	}
	if (!o->hooks)
		o->hooks = VD_FW_HOOK_INPUT;
	if (!o->kernel_mark_mask)
		o->kernel_mark_mask = VD_KMARK_DEFAULT_MASK;
	return VD_CLI_RUN;
}
