/* firewall_nft.c - verdictd's kernel rules as an nft -f file (firewall_nft.h). */
#include <verdict/kernel_mark.h>

#include "firewall_nft.h"

static const struct {
	unsigned bit;
	const char *name;
} nft_hooks[VD_FW_HOOK_COUNT] = {
	{ VD_FW_HOOK_INPUT, "input" },
	{ VD_FW_HOOK_FORWARD, "forward" },
	{ VD_FW_HOOK_OUTPUT, "output" },
};

/* The codes that decide, as firewall.c orders them. */
static const unsigned deciding_codes[] = {
	VD_KMARK_ACCEPT, VD_KMARK_DROP, VD_KMARK_REJECT_PORT, VD_KMARK_REJECT_RESET,
	VD_KMARK_REJECT_ADMIN, VD_KMARK_REJECT_HOST,
};
#define NCODES (sizeof(deciding_codes) / sizeof(deciding_codes[0]))

/* "\t\tMATCH VERDICT" for a code. A reset answers TCP and port unreachable
 * the rest, as REJECT does in the iptables flavour; icmpx names the ICMP or
 * ICMPv6 message of the packet's family. */
static void code_rules(FILE *out, const char *match, unsigned code)
{
	switch (code) {
	case VD_KMARK_ACCEPT:
		fprintf(out, "\t\t%s accept\n", match);
		return;
	case VD_KMARK_DROP:
		fprintf(out, "\t\t%s drop\n", match);
		return;
	case VD_KMARK_REJECT_RESET:
		fprintf(out, "\t\t%s meta l4proto tcp reject with tcp reset\n", match);
		break;
	case VD_KMARK_REJECT_ADMIN:
		fprintf(out, "\t\t%s reject with icmpx type admin-prohibited\n", match);
		return;
	case VD_KMARK_REJECT_HOST:
		fprintf(out, "\t\t%s reject with icmpx type host-unreachable\n", match);
		return;
	}
	fprintf(out, "\t\t%s reject with icmpx type port-unreachable\n", match);
}

/* Chain "decided": save, then the connection's code, then the packet's. */
static void decided_chain(FILE *out, uint32_t m)
{
	uint32_t action = vd_kmark_value(m, VD_KMARK_ACTION_MASK);
	char match[96];

	fputs("\tchain decided {\n", out);
	for (size_t i = 0; i < NCODES; i++) {
		uint32_t v = vd_kmark_value(m, deciding_codes[i] | VD_KMARK_CONN);

		fprintf(out, "\t\tmeta mark & 0x%08x == 0x%08x ct mark set ct mark & 0x%08x | "
			"0x%08x\n", m, v, ~m, v);
	}
	for (size_t i = 0; i < NCODES; i++) {
		snprintf(match, sizeof(match), "ct mark & 0x%08x == 0x%08x", m,
			 vd_kmark_value(m, deciding_codes[i] | VD_KMARK_CONN));
		code_rules(out, match, deciding_codes[i]);
	}
	for (size_t i = 0; i < NCODES; i++) {
		snprintf(match, sizeof(match), "meta mark & 0x%08x == 0x%08x", action,
			 vd_kmark_value(m, deciding_codes[i]));
		code_rules(out, match, deciding_codes[i]);
	}
	fputs("\t}\n", out);
}

/* One hook's base chain. `ct packets` counts both directions, as
 * --connbytes-dir both does, and switches conntrack accounting on. */
static void hook_chain(FILE *out, const struct vd_firewall_config *cfg, unsigned bit,
		       const char *hook)
{
	uint32_t m = cfg->mark_mask;

	fprintf(out, "\tchain %s {\n\t\ttype filter hook %s priority -1; policy accept;\n", hook,
		hook);
	/* The fast path as the iptables flavour has it (firewall.c): a
	 * connection past N is marked PAST once, and accepted on that. */
	if (cfg->first_packets)
		fprintf(out, "\t\tmeta mark & 0x%08x == 0 ct mark & 0x%08x == 0x%08x accept\n", m, m,
			vd_kmark_value(m, VD_KMARK_PAST));
	fprintf(out, "\t\tmeta mark & 0x%08x == 0 ct mark & 0x%08x == 0x%08x accept\n", m, m,
		vd_kmark_value(m, VD_KMARK_ACCEPT | VD_KMARK_CONN));
	if (cfg->first_packets)
		fprintf(out, "\t\tmeta mark & 0x%08x == 0 ct mark & 0x%08x == 0 ct packets > %u "
			"ct mark set ct mark & 0x%08x | 0x%08x accept\n", m, m, cfg->first_packets, ~m,
			vd_kmark_value(m, VD_KMARK_PAST));
	fprintf(out, "\t\tmeta mark & 0x%08x == 0x%08x return\n", m, vd_kmark_value(m, VD_KMARK_PASS));
	fprintf(out, "\t\tmeta mark & 0x%08x != 0 jump decided\n", m);
	fprintf(out, "\t\tct mark & 0x%08x != 0 jump decided\n", m);
	if (cfg->first_packets)
		fprintf(out, "\t\tct packets > %u accept\n", cfg->first_packets);
	if (cfg->offload_nft)
		cfg->offload_nft(out, bit, cfg->offload_ctx);
	if (cfg->nqueues > 1)
		fprintf(out, "\t\tqueue num %u-%u bypass\n", cfg->queue_first,
			cfg->queue_first + cfg->nqueues - 1);
	else
		fprintf(out, "\t\tqueue num %u bypass\n", cfg->queue_first);
	fputs("\t}\n", out);
}

int vd_firewall_nft_write_removal(FILE *out)
{
	/* Declaring it first makes the delete succeed when there is no table. */
	fputs("table inet " VD_FIREWALL_NFT_TABLE "\n", out);
	fputs("delete table inet " VD_FIREWALL_NFT_TABLE "\n", out);
	return ferror(out) ? -1 : 0;
}

int vd_firewall_nft_write(FILE *out, const struct vd_firewall_config *cfg)
{
	vd_firewall_nft_write_removal(out);
	fputs("table inet " VD_FIREWALL_NFT_TABLE " {\n", out);
	decided_chain(out, cfg->mark_mask);
	for (size_t i = 0; i < VD_FW_HOOK_COUNT; i++)
		if (cfg->hooks & nft_hooks[i].bit)
			hook_chain(out, cfg, nft_hooks[i].bit, nft_hooks[i].name);
	fputs("}\n", out);
	return ferror(out) ? -1 : 0;
}
