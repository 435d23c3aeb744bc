/* firewall.c - verdictd's kernel rules as iptables-restore text (firewall.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <verdict/kernel_mark.h>

#include "firewall.h"

static const struct {
	unsigned bit;
	const char *name, *chain, *own;
} hooks[VD_FW_HOOK_COUNT] = {
	{ VD_FW_HOOK_INPUT, "input", "INPUT", "VERDICTD-INPUT" },
	{ VD_FW_HOOK_FORWARD, "forward", "FORWARD", "VERDICTD-FORWARD" },
	{ VD_FW_HOOK_OUTPUT, "output", "OUTPUT", "VERDICTD-OUTPUT" },
};

const char *vd_firewall_reject_with(unsigned code, int family, bool tcp)
{
	bool v6 = family == AF_INET6;

	switch (code) {
	case VD_KMARK_REJECT_RESET:
		if (tcp)
			return "tcp-reset";
		/* REJECT refuses tcp-reset without -p tcp: port unreachable. */
		break;
	case VD_KMARK_REJECT_ADMIN:
		return v6 ? "icmp6-adm-prohibited" : "icmp-admin-prohibited";
	case VD_KMARK_REJECT_HOST:
		return v6 ? "icmp6-addr-unreachable" : "icmp-host-unreachable";
	}
	return v6 ? "icmp6-port-unreachable" : "icmp-port-unreachable";
}

int vd_firewall_hooks_parse(const char *s, unsigned *out)
{
	size_t len;

	*out = 0;
	while (s && *s) {
		unsigned bit = 0;

		len = strcspn(s, ",");
		for (size_t i = 0; i < VD_FW_HOOK_COUNT; i++)
			if (strlen(hooks[i].name) == len && strncmp(s, hooks[i].name, len) == 0)
				bit = hooks[i].bit;
		if (!bit)
			return -1;
		*out |= bit;
		s += len;
		if (*s == ',' && *++s == '\0')
			return -1; /* a trailing comma */
	}
	return *out ? 0 : -1;
}

const char *vd_firewall_hook_chain(unsigned hook)
{
	for (size_t i = 0; i < VD_FW_HOOK_COUNT; i++)
		if (hooks[i].bit == hook)
			return hooks[i].chain;
	return NULL;
}

const char *vd_firewall_own_chain(unsigned hook)
{
	for (size_t i = 0; i < VD_FW_HOOK_COUNT; i++)
		if (hooks[i].bit == hook)
			return hooks[i].own;
	return NULL;
}

void vd_firewall_backend_parse(const char *version, char *out, size_t len)
{
	const char *open = version ? strrchr(version, '(') : NULL;
	size_t n = open ? strspn(open + 1, "abcdefghijklmnopqrstuvwxyz_") : 0;

	if (!n || open[1 + n] != ')' || n >= len)
		snprintf(out, len, "unknown");
	else
		snprintf(out, len, "%.*s", (int)n, open + 1);
}

int vd_firewall_queues_set(struct vd_firewall_config *cfg, const unsigned *queues, size_t n)
{
	unsigned lo = 65535, hi = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		lo = queues[i] < lo ? queues[i] : lo;
		hi = queues[i] > hi ? queues[i] : hi;
	}
	/* vd_spec_parse refuses duplicates, so n distinct values fill the
	 * range exactly when it is n wide. */
	if (hi - lo + 1 != n)
		return -1;
	cfg->queue_first = (uint16_t)lo;
	cfg->nqueues = (unsigned)n;
	return 0;
}

/* "-A CHAIN MATCH -j TARGET" for a verdict code: ACCEPT, DROP or REJECT.
 * A tcp-reset code answers TCP with a reset and anything else with port
 * unreachable (REJECT refuses tcp-reset without -p tcp). */
static void code_rules(FILE *out, const char *chain, const char *match, unsigned code,
		       int family)
{
	switch (code) {
	case VD_KMARK_ACCEPT:
		fprintf(out, "-A %s %s -j ACCEPT\n", chain, match);
		return;
	case VD_KMARK_DROP:
		fprintf(out, "-A %s %s -j DROP\n", chain, match);
		return;
	case VD_KMARK_REJECT_RESET:
		fprintf(out, "-A %s -p tcp %s -j REJECT --reject-with %s\n", chain, match,
			vd_firewall_reject_with(code, family, true));
		/* The other protocols: port unreachable. */
		__attribute__((fallthrough));
	default:
		fprintf(out, "-A %s %s -j REJECT --reject-with %s\n", chain, match,
			vd_firewall_reject_with(code, family, false));
	}
}

/* The codes that decide, in kernel_mark.h's order: every code but NONE and
 * PASS. */
static const unsigned deciding_codes[] = {
	VD_KMARK_ACCEPT, VD_KMARK_DROP, VD_KMARK_REJECT_PORT, VD_KMARK_REJECT_RESET,
	VD_KMARK_REJECT_ADMIN, VD_KMARK_REJECT_HOST,
};

/* The chain every hook's chain sends a packet to when it carries a code
 * (a repeat verdict's) or its connection does: most packets carry neither,
 * and pass two rules instead of every code's. */
#define DECIDED_CHAIN "VERDICTD-DECIDED"

/* VERDICTD-DECIDED: save a connection code, then act on the connection's
 * code, then on the packet's. A connection's decision is met first: it is
 * what almost every packet here has (the rest of a bypassed connection). A
 * packet whose code is the connection's own meets it there too, since the
 * save came first. Nothing matched: back to the hook's chain (the queue). */
static void decided_rules(FILE *out, const struct vd_firewall_config *cfg, int family)
{
	uint32_t m = cfg->mark_mask, conn = vd_kmark_value(m, VD_KMARK_CONN);
	uint32_t action = vd_kmark_value(m, VD_KMARK_ACTION_MASK);
	char match[96];

	fprintf(out, "-A %s -m mark --mark 0x%x/0x%x -j CONNMARK --save-mark --nfmask 0x%x "
		"--ctmask 0x%x\n", DECIDED_CHAIN, conn, conn, m, m);
	for (size_t i = 0; i < sizeof(deciding_codes) / sizeof(deciding_codes[0]); i++) {
		snprintf(match, sizeof(match), "-m connmark --mark 0x%x/0x%x",
			 vd_kmark_value(m, deciding_codes[i] | VD_KMARK_CONN), m);
		code_rules(out, DECIDED_CHAIN, match, deciding_codes[i], family);
	}
	for (size_t i = 0; i < sizeof(deciding_codes) / sizeof(deciding_codes[0]); i++) {
		snprintf(match, sizeof(match), "-m mark --mark 0x%x/0x%x",
			 vd_kmark_value(m, deciding_codes[i]), action);
		code_rules(out, DECIDED_CHAIN, match, deciding_codes[i], family);
	}
}

/* The fast path: almost every packet of a long flow is accepted by one rule
 * at the top of the chain, which reads the packet mark (nf_tables evaluates
 * it natively) and the connection mark (through the xtables compatibility
 * layer), and nothing else:
 *
 *  - with --first-packets N, a packet with no code of a connection marked
 *    PAST: the connection's N+1st packet with no code marked it (the third
 *    rule), so later packets skip connbytes, a second compatibility match
 *    that reads the conntrack accounting (the UDP first-packets row ran at
 *    0.93x of the kernel path with it in the fast rule, 0.99x for bypass
 *    without it);
 *  - a packet with no code of a connection decided "accept" (bypass).
 *
 * The third rule marks a plain connection past N PAST and lets its packet
 * go on: the jump to VERDICTD-DECIDED finds no rule for PAST there, and the
 * connbytes rule below accepts it, as it accepted every such packet before.
 * A packet past N that carries a code (its connection's or its own) never
 * matches these rules and meets the loop guard and VERDICTD-DECIDED as
 * before. PAST is a connection code like bypass's, so a reload that turns
 * first packets off sends those connections to the queue again (no rule
 * accepts PAST then); one that raises N does not re-queue them. */
static void fast_rules(FILE *out, const struct vd_firewall_config *cfg, const char *chain)
{
	uint32_t m = cfg->mark_mask;

	if (cfg->first_packets)
		fprintf(out, "-A %s -m mark --mark 0x0/0x%x -m connmark --mark 0x%x/0x%x -j ACCEPT\n",
			chain, m, vd_kmark_value(m, VD_KMARK_PAST), m);
	fprintf(out, "-A %s -m mark --mark 0x0/0x%x -m connmark --mark 0x%x/0x%x -j ACCEPT\n",
		chain, m, vd_kmark_value(m, VD_KMARK_ACCEPT | VD_KMARK_CONN), m);
	if (cfg->first_packets)
		fprintf(out, "-A %s -m mark --mark 0x0/0x%x -m connmark --mark 0x0/0x%x "
			"-m connbytes --connbytes %u: --connbytes-dir both --connbytes-mode packets "
			"-j CONNMARK --set-xmark 0x%x/0x%x\n", chain, m, m, cfg->first_packets + 1,
			vd_kmark_value(m, VD_KMARK_PAST), m);
}

static void chain_rules(FILE *out, const struct vd_firewall_config *cfg, const char *chain,
			int family)
{
	uint32_t m = cfg->mark_mask;

	fast_rules(out, cfg, chain);
	/* 1: a repeat verdict's packet has been judged; it goes on through the
	 * host's other rules, not back to the queue. */
	fprintf(out, "-A %s -m mark --mark 0x%x/0x%x -j RETURN\n", chain,
		vd_kmark_value(m, VD_KMARK_PASS), m);
	/* 2: a code on the packet or its connection: VERDICTD-DECIDED acts. */
	fprintf(out, "-A %s -m mark ! --mark 0x0/0x%x -j %s\n", chain, m, DECIDED_CHAIN);
	fprintf(out, "-A %s -m connmark ! --mark 0x0/0x%x -j %s\n", chain, m, DECIDED_CHAIN);
	/* connbytes counts the packet being matched: the first N see 1..N.
	 * Past N, what is left here is the packet that just marked its
	 * connection PAST, or one with a code the rules above did not act on. */
	if (cfg->first_packets)
		fprintf(out, "-A %s -m connbytes --connbytes %u: --connbytes-dir both "
			"--connbytes-mode packets -j ACCEPT\n", chain, cfg->first_packets + 1);
	if (cfg->offload)
		cfg->offload(out, chain, family, cfg->offload_ctx);
	if (cfg->nqueues > 1)
		fprintf(out, "-A %s -j NFQUEUE --queue-balance %u:%u --queue-bypass\n", chain,
			cfg->queue_first, cfg->queue_first + cfg->nqueues - 1);
	else
		fprintf(out, "-A %s -j NFQUEUE --queue-num %u --queue-bypass\n", chain,
			cfg->queue_first);
}

int vd_firewall_write(FILE *out, const struct vd_firewall_config *cfg, int family,
		      unsigned jumps)
{
	fputs("*filter\n", out);
	fputs(":" DECIDED_CHAIN " - [0:0]\n", out);
	for (size_t i = 0; i < VD_FW_HOOK_COUNT; i++)
		if (cfg->hooks & hooks[i].bit)
			fprintf(out, ":%s - [0:0]\n", hooks[i].own);
	decided_rules(out, cfg, family);
	for (size_t i = 0; i < VD_FW_HOOK_COUNT; i++)
		if (cfg->hooks & hooks[i].bit)
			chain_rules(out, cfg, hooks[i].own, family);
	for (size_t i = 0; i < VD_FW_HOOK_COUNT; i++)
		if (cfg->hooks & jumps & hooks[i].bit)
			fprintf(out, "-I %s 1 -j %s\n", hooks[i].chain, hooks[i].own);
	fputs("COMMIT\n", out);
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

int vd_firewall_write_removal(FILE *out, const struct vd_firewall_config *cfg, unsigned jumps,
			      bool shared)
{
	fputs("*filter\n", out);
	for (size_t i = 0; i < VD_FW_HOOK_COUNT; i++)
		if (cfg->hooks & jumps & hooks[i].bit)
			fprintf(out, "-D %s -j %s\n", hooks[i].chain, hooks[i].own);
	/* The declaration flushes the chain (creating it if it is gone), so
	 * that -X finds it empty. */
	for (size_t i = 0; i < VD_FW_HOOK_COUNT; i++)
		if (cfg->hooks & hooks[i].bit)
			fprintf(out, ":%s - [0:0]\n-X %s\n", hooks[i].own, hooks[i].own);
	/* Last: the hooks' chains no longer refer to it. */
	if (shared)
		fputs(":" DECIDED_CHAIN " - [0:0]\n-X " DECIDED_CHAIN "\n", out);
	fputs("COMMIT\n", out);
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
