/* test_firewall_offload.c - which leading rules go to the kernel, their
 * iptables and nft text, why the run stops, and the kernel counters read
 * back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <verdict/libverdict.h>
#include <verdict/kernel_mark.h>

#include "firewall.h"
#include "firewall_offload.h"

static char path[64];

/* A table loaded from text, with offload settings for the input hook. */
static struct vd_firewall_offload *load(const char *text)
{
	struct vd_firewall_offload *ctx = calloc(1, sizeof(*ctx));
	char errbuf[VD_ERRBUF_SIZE];
	struct vd_rules_config cfg = { .path = path, .nworkers = 1 };
	int fd;

	snprintf(path, sizeof(path), "/tmp/vd_offload_XXXXXX");
	fd = mkstemp(path); /* 0600: the rules file trust check wants that */
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ctx->rules = vd_rules_open(&cfg, errbuf);
	if (!ctx->rules)
		fail_msg("%s", errbuf);
	ctx->hook = VD_OFFLOAD_INPUT;
	ctx->kmark_mask = VD_KMARK_DEFAULT_MASK;
	vd_firewall_offload_init(ctx);
	unlink(path);
	return ctx;
}

static void unload(struct vd_firewall_offload *ctx)
{
	vd_rules_close(ctx->rules);
	vd_firewall_offload_fini(ctx);
	free(ctx);
}

static char *written(struct vd_firewall_offload *ctx, const char *chain, int family,
		     unsigned *lines)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	*lines = vd_firewall_offload_write(out, chain, family, ctx);
	fclose(out);
	return buf;
}

/* The nft flavour's rules for the base chain of hook (a VD_FW_HOOK_* bit). */
static char *written_nft(struct vd_firewall_offload *ctx, unsigned hook, unsigned *rules)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	*rules = vd_firewall_offload_write_nft(out, hook, ctx);
	fclose(out);
	return buf;
}

/* The highest N of the "verdictd rule N" tags in text: where its run ends. */
static unsigned last_tag(const char *text)
{
	unsigned last = 0;

	for (const char *t = text; (t = strstr(t, "verdictd rule ")); t++) {
		unsigned n = (unsigned)strtoul(t + strlen("verdictd rule "), NULL, 10);

		last = n > last ? n : last;
	}
	return last;
}

static char *check_line(struct vd_firewall_offload *ctx, enum vd_offload_hook hook)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	vd_firewall_offload_check(ctx, hook, out);
	fclose(out);
	return buf;
}

static const char table[] =
	"return { default = 'accept',\n"
	"  sets = { lan = { '198.18.0.0/15', '2001:db8::/32' } },\n"
	"  rules = {\n"
	"    { name = 'ssh', proto = 'tcp', dport = 22, src = '@lan', verdict = 'accept' },\n"
	"    { name = 'dns', proto = { 'tcp', 'udp' }, dport = 53, verdict = 'drop', mark = '0x10/0xff' },\n"
	"    { name = 'syn', proto = 'tcp', tcp_flags = 'syn,!ack', ct_state = { 'new', 'established' },\n"
	"      len = '40-100', iif = 'lo', verdict = 'drop' },\n"
	"    { name = 'ping', icmp_type = 8, icmp_code = 0, match_mark = '0x1/0xf', verdict = 'accept' },\n"
	"    { name = 'range', src = { '198.18.0.0/24', '198.18.1.0/25' }, sport = '1000-2000', proto = 'udp',\n"
	"      verdict = 'drop' },\n"
	"    { name = 'any', verdict = 'accept', dst = '::/0' },\n"
	"    { name = 'hook', lua = function(p) return 'accept' end },\n"
	"    { name = 'after', proto = 'udp', verdict = 'drop' },\n"
	"  } }\n";

static void test_text_ipv4(void **state)
{
	struct vd_firewall_offload *ctx = load(table);
	unsigned lines;
	char *text = written(ctx, "VERDICTD-INPUT", AF_INET, &lines);

	(void)state;
	assert_string_equal(text,
		"-A VERDICTD-INPUT -p tcp -s 198.18.0.0/15 -m tcp --dport 22 -m comment --comment \"verdictd rule 1\" -j ACCEPT\n"
		"-A VERDICTD-INPUT -p tcp -m tcp --dport 53 -m comment --comment \"verdictd rule 2\" -j MARK --set-xmark 0x10/0xff\n"
		"-A VERDICTD-INPUT -p tcp -m tcp --dport 53 -m comment --comment \"verdictd rule 2\" -j DROP\n"
		"-A VERDICTD-INPUT -p udp -m udp --dport 53 -m comment --comment \"verdictd rule 2\" -j MARK --set-xmark 0x10/0xff\n"
		"-A VERDICTD-INPUT -p udp -m udp --dport 53 -m comment --comment \"verdictd rule 2\" -j DROP\n"
		"-A VERDICTD-INPUT -p tcp -i lo -m tcp --tcp-flags SYN,ACK SYN -m conntrack --ctstate NEW,ESTABLISHED -m length --length 40:100 -m comment --comment \"verdictd rule 3\" -j DROP\n"
		"-A VERDICTD-INPUT -p icmp -m icmp --icmp-type 8/0 -m mark --mark 0x1/0xf -m comment --comment \"verdictd rule 4\" -j ACCEPT\n"
		"-A VERDICTD-INPUT -p udp -s 198.18.0.0/24 -m udp --sport 1000:2000 -m comment --comment \"verdictd rule 5\" -j DROP\n"
		"-A VERDICTD-INPUT -p udp -s 198.18.1.0/25 -m udp --sport 1000:2000 -m comment --comment \"verdictd rule 5\" -j DROP\n"
		/* ::/0 holds every IPv4 address (::ffff:0:0/96) */
		"-A VERDICTD-INPUT -d 0.0.0.0/0 -m comment --comment \"verdictd rule 6\" -j ACCEPT\n");
	assert_int_equal(lines, 10);
	free(text);
	unload(ctx);
}

static void test_text_ipv6(void **state)
{
	struct vd_firewall_offload *ctx = load(table);
	unsigned lines;
	char *text = written(ctx, "VERDICTD-INPUT", AF_INET6, &lines);

	(void)state;
	assert_string_equal(text,
		"-A VERDICTD-INPUT -p tcp -s 2001:db8::/32 -m tcp --dport 22 -m comment --comment \"verdictd rule 1\" -j ACCEPT\n"
		"-A VERDICTD-INPUT -p tcp -m tcp --dport 53 -m comment --comment \"verdictd rule 2\" -j MARK --set-xmark 0x10/0xff\n"
		"-A VERDICTD-INPUT -p tcp -m tcp --dport 53 -m comment --comment \"verdictd rule 2\" -j DROP\n"
		"-A VERDICTD-INPUT -p udp -m udp --dport 53 -m comment --comment \"verdictd rule 2\" -j MARK --set-xmark 0x10/0xff\n"
		"-A VERDICTD-INPUT -p udp -m udp --dport 53 -m comment --comment \"verdictd rule 2\" -j DROP\n"
		"-A VERDICTD-INPUT -p tcp -i lo -m tcp --tcp-flags SYN,ACK SYN -m conntrack --ctstate NEW,ESTABLISHED -m length --length 40:100 -m comment --comment \"verdictd rule 3\" -j DROP\n"
		"-A VERDICTD-INPUT -p icmpv6 -m icmp6 --icmpv6-type 8/0 -m mark --mark 0x1/0xf -m comment --comment \"verdictd rule 4\" -j ACCEPT\n"
		/* rule 5 is IPv4's alone */
		"-A VERDICTD-INPUT -d ::/0 -m comment --comment \"verdictd rule 6\" -j ACCEPT\n");
	assert_int_equal(lines, 8);
	free(text);
	unload(ctx);
}

static void test_check_line(void **state)
{
	struct vd_firewall_offload *ctx = load(table);
	char *line = check_line(ctx, VD_OFFLOAD_INPUT);

	(void)state;
	assert_string_equal(line, "offload input: rules 1-6 of 8 run in the kernel with --firewall "
			    "(iptables: 10 IPv4 and 8 IPv6 rules; nft: 11 rules); rule 7 \"hook\" and those after "
			    "it stay in verdictd: it calls a Lua hook\n");
	free(line);
	/* iif in the output hook ends the run at rule 3 */
	line = check_line(ctx, VD_OFFLOAD_OUTPUT);
	assert_non_null(strstr(line, "rules 1-2 of 8"));
	assert_non_null(strstr(line, "rule 3 \"syn\" and those after it stay in verdictd: iif in the "
				     "output hook"));
	free(line);
	unload(ctx);
}

/* The first rule of each table stays in verdictd, for the reason given. */
static void test_stop_reasons(void **state)
{
	static const struct { const char *rule, *why; } cases[] = {
		{ "{ proto = 'udp', verdict = 'queue', queue = 3 }", "verdict queue" },
		{ "{ proto = 'udp', verdict = 'repeat' }", "verdict repeat" },
		{ "{ proto = 'udp', verdict = 'accept', set = { ttl = 9 } }", "it rewrites packets" },
		{ "{ proto = 'udp', verdict = 'accept', delay = '5ms' }", "it shapes packets" },
		{ "{ proto = 'udp', verdict = 'accept', log = true }", "it logs" },
		{ "{ dport = 53, verdict = 'drop' }", "ports without proto" },
		{ "{ proto = 'sctp', dport = 53, verdict = 'drop' }", "ports of protocol 132" },
		{ "{ match_queue = 1, verdict = 'drop' }", "match_queue" },
		{ "{ uid = 1000, verdict = 'drop' }", "output hook only" },
		{ "{ oif = 'lo', verdict = 'drop' }", "oif in the input hook" },
		{ "{ proto = 0, verdict = 'drop' }", "protocol 0" },
		{ "{ verdict = 'accept', mark = '0x10/0x0f0000ff' }", "overlaps verdictd's kernel mark" },
		{ "{ verdict = 'reject', reject_with = 'tcp-reset' }", "tcp-reset without proto = \"tcp\"" },
		{ "{ proto = 'udp', dport = 9, verdict = 'reject', reject_with = 'tcp-reset' }",
		  "tcp-reset without proto = \"tcp\"" },
		{ "{ proto = 'tcp', verdict = 'reject', bypass = true }", "bypass: the connection is decided" },
		{ "{ verdict = 'accept', bypass = true }", "bypass: the connection is decided" },
		{ "{ verdict = 'accept', match_mark = '0x1/0xf', mark = '0x2/0x3' }", "sets mark bits it matches" },
		{ "{ src = '198.18.0.1', dst = '2001:db8::1', verdict = 'drop' }", "family mismatch" },
		{ "{ proto = 'tcp', dport = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, sport = { 1, 2, 3, 4, 5, 6, 7, 8 }, "
		  "verdict = 'drop' }", "it would take 72 iptables rules" },
	};
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vd_firewall_offload *ctx;
		char *line;
		unsigned lines;
		char *out;

		snprintf(text, sizeof(text), "return { rules = { %s, { proto = 'tcp', verdict = 'drop' } } }",
			 cases[i].rule);
		ctx = load(text);
		line = check_line(ctx, VD_OFFLOAD_INPUT);
		if (!strstr(line, "no rule runs in the kernel; rule 1 \"rule1\"") ||
		    !strstr(line, cases[i].why))
			fail_msg("case %zu: want \"%s\", got %s", i, cases[i].why, line);
		/* nothing after the stop is written either, in either flavour */
		out = written(ctx, "VERDICTD-INPUT", AF_INET, &lines);
		assert_int_equal(lines, 0);
		assert_string_equal(out, "");
		free(out);
		out = written_nft(ctx, VD_FW_HOOK_INPUT, &lines);
		assert_int_equal(lines, 0);
		assert_string_equal(out, "");
		free(out);
		free(line);
		unload(ctx);
	}
}

/* A rule of each reject code, tcp-reset for TCP alone and beside UDP. */
static const char reject_table[] =
	"return { rules = {\n"
	"  { name = 'rst', proto = 'tcp', dport = 22, verdict = 'reject', reject_with = 'tcp-reset' },\n"
	"  { name = 'mixed', proto = { 'tcp', 'udp' }, dport = 23, verdict = 'reject',\n"
	"    reject_with = 'tcp-reset', mark = '0x20/0xff' },\n"
	"  { name = 'adm', proto = 'udp', dport = 24, verdict = 'reject', reject_with = 'icmp-admin-prohibited' },\n"
	"  { name = 'host', dst = '198.18.0.1', verdict = 'reject', reject_with = 'icmp6-addr-unreachable' },\n"
	"  { name = 'port', icmp_type = 8, verdict = 'reject' },\n"
	"} }";

/* Reject offloads as REJECT with each family's name for the answer;
 * tcp-reset only beside -p tcp, other protocols of the rule get port
 * unreachable there, as verdictd's own reject gives them. */
static void test_reject(void **state)
{
	struct vd_firewall_offload *ctx = load(reject_table);
	unsigned lines;
	char *v4 = written(ctx, "VERDICTD-FORWARD", AF_INET, &lines), *v6, *line;

	(void)state;
	assert_string_equal(v4,
		"-A VERDICTD-FORWARD -p tcp -m tcp --dport 22 -m comment --comment \"verdictd rule 1\" -j REJECT --reject-with tcp-reset\n"
		"-A VERDICTD-FORWARD -p tcp -m tcp --dport 23 -m comment --comment \"verdictd rule 2\" -j MARK --set-xmark 0x20/0xff\n"
		"-A VERDICTD-FORWARD -p tcp -m tcp --dport 23 -m comment --comment \"verdictd rule 2\" -j REJECT --reject-with tcp-reset\n"
		"-A VERDICTD-FORWARD -p udp -m udp --dport 23 -m comment --comment \"verdictd rule 2\" -j MARK --set-xmark 0x20/0xff\n"
		"-A VERDICTD-FORWARD -p udp -m udp --dport 23 -m comment --comment \"verdictd rule 2\" -j REJECT --reject-with icmp-port-unreachable\n"
		"-A VERDICTD-FORWARD -p udp -m udp --dport 24 -m comment --comment \"verdictd rule 3\" -j REJECT --reject-with icmp-admin-prohibited\n"
		"-A VERDICTD-FORWARD -d 198.18.0.1/32 -m comment --comment \"verdictd rule 4\" -j REJECT --reject-with icmp-host-unreachable\n"
		"-A VERDICTD-FORWARD -p icmp -m icmp --icmp-type 8 -m comment --comment \"verdictd rule 5\" -j REJECT --reject-with icmp-port-unreachable\n");
	assert_int_equal(lines, 8);
	v6 = written(ctx, "VERDICTD-FORWARD", AF_INET6, &lines);
	assert_string_equal(v6,
		"-A VERDICTD-FORWARD -p tcp -m tcp --dport 22 -m comment --comment \"verdictd rule 1\" -j REJECT --reject-with tcp-reset\n"
		"-A VERDICTD-FORWARD -p tcp -m tcp --dport 23 -m comment --comment \"verdictd rule 2\" -j MARK --set-xmark 0x20/0xff\n"
		"-A VERDICTD-FORWARD -p tcp -m tcp --dport 23 -m comment --comment \"verdictd rule 2\" -j REJECT --reject-with tcp-reset\n"
		"-A VERDICTD-FORWARD -p udp -m udp --dport 23 -m comment --comment \"verdictd rule 2\" -j MARK --set-xmark 0x20/0xff\n"
		"-A VERDICTD-FORWARD -p udp -m udp --dport 23 -m comment --comment \"verdictd rule 2\" -j REJECT --reject-with icmp6-port-unreachable\n"
		"-A VERDICTD-FORWARD -p udp -m udp --dport 24 -m comment --comment \"verdictd rule 3\" -j REJECT --reject-with icmp6-adm-prohibited\n"
		/* rule 4 is IPv4's alone */
		"-A VERDICTD-FORWARD -p icmpv6 -m icmp6 --icmpv6-type 8 -m comment --comment \"verdictd rule 5\" -j REJECT --reject-with icmp6-port-unreachable\n");
	assert_int_equal(lines, 7);
	line = check_line(ctx, VD_OFFLOAD_FORWARD);
	assert_string_equal(line, "offload forward: rules 1-5 of 5 run in the kernel with --firewall "
			    "(iptables: 8 IPv4 and 7 IPv6 rules; nft: 11 rules); only the default verdict stays in "
			    "verdictd\n");
	free(line);
	free(v6);
	free(v4);
	unload(ctx);
}

/* A set of prefixes too many for a linear list of iptables rules stays in
 * verdictd; nft holds them all in one rule's anonymous set. */
static void test_stop_big_set(void **state)
{
	char *text = malloc(65536), *line, *nft, want[32];
	size_t off = 0;
	unsigned rules;
	struct vd_firewall_offload *ctx;

	(void)state;
	off += (size_t)sprintf(text, "return { sets = { big = {");
	for (int i = 0; i < 65; i++)
		off += (size_t)sprintf(text + off, " '198.18.%d.0/24',", 2 * i);
	sprintf(text + off, " '2001:db8::/32' } }, rules = { { src = '@big', verdict = 'drop' } } }");
	ctx = load(text);
	line = check_line(ctx, VD_OFFLOAD_INPUT);
	assert_non_null(strstr(line, "stay in verdictd: src: more than 64 IPv4 prefixes "
				     "(iptables would need an ipset; the nft flavour offloads it "
				     "as one set)"));
	free(line);
	line = written(ctx, "VERDICTD-INPUT", AF_INET, &rules);
	assert_int_equal(rules, 0);
	free(line);
	ctx->nft = true;
	nft = written_nft(ctx, VD_FW_HOOK_INPUT, &rules);
	assert_int_equal(rules, 2);
	assert_non_null(strstr(nft, "meta nfproto ipv4 ip saddr { 198.18.0.0/24, 198.18.2.0/24, "));
	for (int i = 0; i < 65; i++) {
		snprintf(want, sizeof(want), " 198.18.%d.0/24%s", 2 * i, i < 64 ? "," : " }");
		assert_non_null(strstr(nft, want));
	}
	/* IPv6 has one prefix: a plain match. */
	assert_non_null(strstr(nft, "meta nfproto ipv6 ip6 saddr 2001:db8::/32 counter"));
	free(nft);
	unload(ctx);
	free(text);
}

static void test_counters_parse(void **state)
{
	static const char save[] =
		"# Generated by iptables-save v1.8.9 (nf_tables)\n"
		"*filter\n"
		":INPUT ACCEPT [100:5000]\n"
		":VERDICTD-INPUT - [0:0]\n"
		"[7:420] -A INPUT -j VERDICTD-INPUT\n"
		"[3:180] -A VERDICTD-INPUT -p tcp -m tcp --dport 22 -m comment --comment \"verdictd rule 1\" -j ACCEPT\n"
		"[5:300] -A VERDICTD-INPUT -p udp -m comment --comment \"verdictd rule 2\" -j MARK --set-xmark 0x10/0xff\n"
		"[5:300] -A VERDICTD-INPUT -p udp -m comment --comment \"verdictd rule 2\" -j DROP\n"
		"[2:100] -A VERDICTD-OUTPUT -p udp -m comment --comment \"verdictd rule 2\" -j DROP\n"
		"[9:900] -A INPUT -m comment --comment \"verdictd rule 1\" -j ACCEPT\n"
		"[4:40] -A VERDICTD-INPUT -m comment --comment \"verdictd rule 12\" -j DROP\n"
		"[1:1] -A VERDICTD-INPUT -m comment --comment \"verdictd rule 3x\" -j DROP\n"
		"[18446744073709551615:1] -A VERDICTD-FORWARD -m comment --comment \"verdictd rule 3\" -j DROP\n"
		"[6:60] -A VERDICTD-INPUT -j NFQUEUE --queue-num 0 --queue-bypass\n"
		"COMMIT\n";
	uint64_t hits[3] = { 0 };

	(void)state;
	/* rule 1: 3 (not the user's INPUT rule); rule 2: 5 + 2 (not MARK);
	 * 12 is past n, "3x" is not a number */
	assert_int_equal(vd_offload_counters_parse(save, hits, 3), 4);
	assert_int_equal(hits[0], 3);
	assert_int_equal(hits[1], 7);
	assert_true(hits[2] == UINT64_MAX);
	assert_int_equal(vd_offload_counters_parse("", hits, 3), 0);
	assert_int_equal(vd_offload_counters_parse("[1:2] -A VERDICTD-INPUT -m comment "
						   "--comment \"verdictd rule 1\"", hits, 3), 0);
}

/* The nft flavour of `table`: one rule per rule and family, lists as sets,
 * the mark set in the rule, a rule of one family only (5) written once, and
 * the run ending where the iptables flavour's does (rule 6 of 8). */
static void test_nft_text(void **state)
{
	struct vd_firewall_offload *ctx = load(table);
	unsigned rules;
	char *text = written_nft(ctx, VD_FW_HOOK_INPUT, &rules), *v4;

	(void)state;
	assert_string_equal(text,
		"\t\tmeta nfproto ipv4 meta l4proto tcp ip saddr 198.18.0.0/15 th dport 22 counter accept comment \"verdictd rule 1\"\n"
		"\t\tmeta nfproto ipv6 meta l4proto tcp ip6 saddr 2001:db8::/32 th dport 22 counter accept comment \"verdictd rule 1\"\n"
		"\t\tmeta nfproto ipv4 meta l4proto { tcp, udp } th dport 53 counter meta mark set meta mark & 0xffffff00 | 0x00000010 drop comment \"verdictd rule 2\"\n"
		"\t\tmeta nfproto ipv6 meta l4proto { tcp, udp } th dport 53 counter meta mark set meta mark & 0xffffff00 | 0x00000010 drop comment \"verdictd rule 2\"\n"
		"\t\tmeta nfproto ipv4 meta l4proto tcp iifname \"lo\" tcp flags & (syn | ack) == syn ct state { new, established } meta length 40-100 counter drop comment \"verdictd rule 3\"\n"
		"\t\tmeta nfproto ipv6 meta l4proto tcp iifname \"lo\" tcp flags & (syn | ack) == syn ct state { new, established } meta length 40-100 counter drop comment \"verdictd rule 3\"\n"
		"\t\tmeta nfproto ipv4 meta l4proto 1 icmp type 8 icmp code 0 meta mark & 0x0000000f == 0x00000001 counter accept comment \"verdictd rule 4\"\n"
		"\t\tmeta nfproto ipv6 meta l4proto 58 icmpv6 type 8 icmpv6 code 0 meta mark & 0x0000000f == 0x00000001 counter accept comment \"verdictd rule 4\"\n"
		"\t\tmeta nfproto ipv4 meta l4proto udp ip saddr { 198.18.0.0/24, 198.18.1.0/25 } th sport 1000-2000 counter drop comment \"verdictd rule 5\"\n"
		/* ::/0 holds every address of both families: no address match */
		"\t\tmeta nfproto ipv4 counter accept comment \"verdictd rule 6\"\n"
		"\t\tmeta nfproto ipv6 counter accept comment \"verdictd rule 6\"\n");
	assert_int_equal(rules, 11);
	v4 = written(ctx, "VERDICTD-INPUT", AF_INET, &rules);
	assert_int_equal(last_tag(text), last_tag(v4));
	free(v4);
	free(text);
	/* In the output hook iif ends both runs at rule 3. */
	text = written_nft(ctx, VD_FW_HOOK_OUTPUT, &rules);
	v4 = written(ctx, "VERDICTD-OUTPUT", AF_INET, &rules);
	assert_int_equal(last_tag(text), 2);
	assert_int_equal(last_tag(v4), 2);
	free(v4);
	free(text);
	unload(ctx);
}

/* Matches of the output hook (owner, oif) and several items per list. */
static void test_nft_output(void **state)
{
	struct vd_firewall_offload *ctx = load(
		"return { rules = {\n"
		"  { name = 'own', uid = '1000-1999', gid = 100, oif = { 'lo' }, proto = 'udp',\n"
		"    sport = { 7, '1000-2000' }, dst = { '198.18.0.1', '198.18.4.0/23', '2001:db8::1' },\n"
		"    verdict = 'drop' },\n"
		"  { name = 'v6', dst = '2001:db8::/32', tcp_flags = 'fin,!syn,!rst', len = '1000-70000',\n"
		"    verdict = 'accept' },\n"
		"} }");
	unsigned rules;
	char *text = written_nft(ctx, VD_FW_HOOK_OUTPUT, &rules);

	(void)state;
	assert_string_equal(text,
		"\t\tmeta nfproto ipv4 meta l4proto udp ip daddr { 198.18.0.1/32, 198.18.4.0/23 } oifname \"lo\" th sport { 7, 1000-2000 } meta skuid 1000-1999 meta skgid 100 counter drop comment \"verdictd rule 1\"\n"
		"\t\tmeta nfproto ipv6 meta l4proto udp ip6 daddr 2001:db8::1/128 oifname \"lo\" th sport { 7, 1000-2000 } meta skuid 1000-1999 meta skgid 100 counter drop comment \"verdictd rule 1\"\n"
		/* a rule of one family; lengths past 16 bits as iptables' */
		"\t\tmeta nfproto ipv6 meta l4proto tcp ip6 daddr 2001:db8::/32 tcp flags & (fin | syn | rst) == fin meta length 1000-65535 counter accept comment \"verdictd rule 2\"\n");
	assert_int_equal(rules, 3);
	free(text);
	unload(ctx);
}

/* tcp-reset for TCP only: a rule of TCP and UDP becomes two per family,
 * the UDP one answering port unreachable, as the iptables flavour's. */
static void test_nft_reject(void **state)
{
	struct vd_firewall_offload *ctx = load(reject_table);
	unsigned rules;
	char *text = written_nft(ctx, VD_FW_HOOK_FORWARD, &rules);

	(void)state;
	assert_string_equal(text,
		"\t\tmeta nfproto ipv4 meta l4proto tcp th dport 22 counter reject with tcp reset comment \"verdictd rule 1\"\n"
		"\t\tmeta nfproto ipv6 meta l4proto tcp th dport 22 counter reject with tcp reset comment \"verdictd rule 1\"\n"
		"\t\tmeta nfproto ipv4 meta l4proto tcp th dport 23 counter meta mark set meta mark & 0xffffff00 | 0x00000020 reject with tcp reset comment \"verdictd rule 2\"\n"
		"\t\tmeta nfproto ipv4 meta l4proto udp th dport 23 counter meta mark set meta mark & 0xffffff00 | 0x00000020 reject with icmpx type port-unreachable comment \"verdictd rule 2\"\n"
		"\t\tmeta nfproto ipv6 meta l4proto tcp th dport 23 counter meta mark set meta mark & 0xffffff00 | 0x00000020 reject with tcp reset comment \"verdictd rule 2\"\n"
		"\t\tmeta nfproto ipv6 meta l4proto udp th dport 23 counter meta mark set meta mark & 0xffffff00 | 0x00000020 reject with icmpx type port-unreachable comment \"verdictd rule 2\"\n"
		"\t\tmeta nfproto ipv4 meta l4proto udp th dport 24 counter reject with icmpx type admin-prohibited comment \"verdictd rule 3\"\n"
		"\t\tmeta nfproto ipv6 meta l4proto udp th dport 24 counter reject with icmpx type admin-prohibited comment \"verdictd rule 3\"\n"
		"\t\tmeta nfproto ipv4 ip daddr 198.18.0.1/32 counter reject with icmpx type host-unreachable comment \"verdictd rule 4\"\n"
		"\t\tmeta nfproto ipv4 meta l4proto 1 icmp type 8 counter reject with icmpx type port-unreachable comment \"verdictd rule 5\"\n"
		"\t\tmeta nfproto ipv6 meta l4proto 58 icmpv6 type 8 counter reject with icmpx type port-unreachable comment \"verdictd rule 5\"\n");
	assert_int_equal(rules, 11);
	free(text);
	unload(ctx);
}

/* `nft list ruleset inet` as nft 1.0.6 prints it (counters edited): only
 * table inet verdictd counts. */
static void test_counters_nft_parse(void **state)
{
	static const char list[] =
		"table inet mine {\n"
		"\tchain c {\n"
		"\t\tcounter packets 40 bytes 1 accept comment \"verdictd rule 1\"\n"
		"\t}\n"
		"}\n"
		"table inet verdictd {\n"
		"\tchain decided {\n"
		"\t\tct mark & 0x0f000000 == 0x09000000 accept\n"
		"\t}\n"
		"\tchain input {\n"
		"\t\ttype filter hook input priority filter - 1; policy accept;\n"
		"\t\tmeta mark & 0x0f000000 == 0x03000000 return\n"
		"\t\tip saddr 198.18.0.0/15 tcp dport 22 counter packets 3 bytes 180 accept comment \"verdictd rule 1\"\n"
		"\t\tip6 saddr 2001:db8::/32 tcp dport 22 counter packets 4 bytes 320 accept comment \"verdictd rule 1\"\n"
		"\t\tmeta nfproto ipv4 meta l4proto { tcp, udp } th dport 53 counter packets 5 bytes 300 meta mark set meta mark & 0xffffff10 | 0x00000010 drop comment \"verdictd rule 2\"\n"
		"\t\tmeta nfproto ipv4 tcp dport 23 counter packets 1 bytes 60 meta mark set meta mark & 0xffffff20 | 0x00000020 reject with tcp reset comment \"verdictd rule 3\"\n"
		"\t\tmeta nfproto ipv4 udp dport 23 counter packets 2 bytes 60 meta mark set meta mark & 0xffffff20 | 0x00000020 reject comment \"verdictd rule 3\"\n"
		"\t\tmeta nfproto ipv4 counter packets 18446744073709551615 bytes 1 accept comment \"verdictd rule 12\"\n"
		"\t\tmeta nfproto ipv4 counter packets 9 bytes 1 accept comment \"verdictd rule 2x\"\n"
		"\t\tmeta nfproto ipv4 accept comment \"verdictd rule 2\"\n"
		"\t\tcounter packets 6 bytes 60 accept comment \"queue\"\n"
		"\t}\n"
		"}\n"
		"table inet verdictd2 {\n"
		"\tchain c {\n"
		"\t\tcounter packets 50 bytes 1 accept comment \"verdictd rule 1\"\n"
		"\t}\n"
		"}\n";
	uint64_t hits[3] = { 0 };

	(void)state;
	/* rule 1: both families; rule 3: the reset split; 12 is past n, "2x"
	 * is not a number, a rule without counter counts nothing */
	assert_int_equal(vd_offload_counters_nft_parse(list, hits, 3), 5);
	assert_int_equal(hits[0], 7);
	assert_int_equal(hits[1], 5);
	assert_int_equal(hits[2], 3);
	assert_int_equal(vd_offload_counters_nft_parse("", hits, 3), 0);
	assert_int_equal(vd_offload_counters_nft_parse("counter packets 5 bytes 1 comment \"verdictd rule 1", hits,
						       3), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_ipv4),
		cmocka_unit_test(test_text_ipv6),
		cmocka_unit_test(test_check_line),
		cmocka_unit_test(test_stop_reasons),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_stop_big_set),
		cmocka_unit_test(test_counters_parse),
		cmocka_unit_test(test_nft_text),
		cmocka_unit_test(test_nft_output),
		cmocka_unit_test(test_nft_reject),
		cmocka_unit_test(test_counters_nft_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
