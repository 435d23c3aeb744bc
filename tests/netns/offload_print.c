/*
 * offload_print.c - vd-offload-print, the namespace tests' window on the
 * kernel offload (engine/daemon/firewall_offload.h) without --firewall:
 *
 *   vd-offload-print RULES CHAIN 4|6   the offloaded rules of RULES for
 *                                      CHAIN (its hook from its name), as
 *                                      iptables-restore lines
 *   vd-offload-print RULES --hits      each rule's kernel hits, read back
 *                                      with iptables-save -c and
 *                                      ip6tables-save -c: "NAME=HITS ..."
 *
 * Exit status 0, or 1 with one line on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <verdict/kernel_mark.h>
#include <verdict/libverdict.h>

#include "firewall_offload.h"

static int hits(struct vd_firewall_offload *ctx)
{
	size_t n = vd_rules_stats(ctx->rules, NULL, 0);
	struct vd_rule_stats *st = calloc(n, sizeof(*st));

	/* As the daemon after installing: the names of the set in the kernel. */
	if (!st || vd_firewall_offload_prepare(ctx) < 0 || vd_firewall_offload_commit(ctx, true) < 0)
		return 1;
	vd_rules_stats(ctx->rules, st, n);
	if (vd_firewall_offload_add_hits(ctx, st, n) < 0)
		return 1;
	for (size_t i = 1; i < n; i++)
		printf("%s%s=%lu", i > 1 ? " " : "", st[i].name, (unsigned long)st[i].hits);
	printf("\n");
	free(st);
	return 0;
}

int main(int argc, char **argv)
{
	char errbuf[VD_ERRBUF_SIZE];
	struct vd_rules_config cfg = { .nworkers = 1 };
	struct vd_firewall_offload ctx = { .hook = VD_OFFLOAD_INPUT,
					   .kmark_mask = VD_KMARK_DEFAULT_MASK };
	int ret = 0;

	if (argc < 3 || (strcmp(argv[2], "--hits") != 0 && argc != 4)) {
		fprintf(stderr, "usage: vd-offload-print RULES CHAIN 4|6 | RULES --hits\n");
		return 1;
	}
	cfg.path = argv[1];
	ctx.rules = vd_rules_open(&cfg, errbuf);
	if (!ctx.rules) {
		fprintf(stderr, "vd-offload-print: %s\n", errbuf);
		return 1;
	}
	vd_firewall_offload_init(&ctx);
	if (strcmp(argv[2], "--hits") == 0)
		ret = hits(&ctx);
	else
		vd_firewall_offload_write(stdout, argv[2], strcmp(argv[3], "6") == 0 ? AF_INET6 : AF_INET,
					  &ctx);
	vd_firewall_offload_fini(&ctx);
	vd_rules_close(ctx.rules);
	return ret;
}
