/* test_firewall_offload.c - which leading rules go to the kernel, their
 * iptables text, why the run stops, and the kernel counters read back. */
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
			    "(10 iptables rules, 8 ip6tables rules); rule 7 \"hook\" and those after "
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
		{ "{ verdict = 'reject', reject_with = 'tcp-reset' }", "verdict reject is not offloaded" },
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
		/* nothing after the stop is written either */
		out = written(ctx, "VERDICTD-INPUT", AF_INET, &lines);
		assert_int_equal(lines, 0);
		assert_string_equal(out, "");
		free(out);
		free(line);
		unload(ctx);
	}
}

/* A set of prefixes too many for a linear list stays in verdictd. */
static void test_stop_big_set(void **state)
{
	char *text = malloc(65536), *line;
	size_t off = 0;
	struct vd_firewall_offload *ctx;

	(void)state;
	off += (size_t)sprintf(text, "return { sets = { big = {");
	for (int i = 0; i < 65; i++)
		off += (size_t)sprintf(text + off, " '198.18.%d.0/24',", 2 * i);
	sprintf(text + off, " } }, rules = { { src = '@big', verdict = 'drop' } } }");
	ctx = load(text);
	line = check_line(ctx, VD_OFFLOAD_INPUT);
	assert_non_null(strstr(line, "src: more than 64 prefixes"));
	free(line);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_ipv4),
		cmocka_unit_test(test_text_ipv6),
		cmocka_unit_test(test_check_line),
		cmocka_unit_test(test_stop_reasons),
		cmocka_unit_test(test_stop_big_set),
		cmocka_unit_test(test_counters_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
