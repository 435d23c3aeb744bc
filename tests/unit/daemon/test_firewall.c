/* test_firewall.c - the generated kernel rules as text (firewall.c): chain
 * order, mark codes, per-family REJECT, queue rules, jumps, removal, the
 * offload point, and the parsers of --hooks and queue ranges. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <verdict/kernel_mark.h>

#include "firewall.h"
#include "firewall_nft.h"

static char *text;

static const char *write_set(const struct vd_firewall_config *cfg, int family, unsigned jumps)
{
	size_t len;
	FILE *f;

	free(text);
	f = open_memstream(&text, &len);
	assert_int_equal(vd_firewall_write(f, cfg, family, jumps), 0);
	fclose(f);
	return text;
}

/* The whole IPv4 file for one hook and queue, line by line. */
static void test_input_chain_exact(void **state)
{
	struct vd_firewall_config cfg = { .queue_first = 4, .nqueues = 1,
					  .hooks = VD_FW_HOOK_INPUT,
					  .mark_mask = VD_KMARK_DEFAULT_MASK };
	static const char want[] =
		"*filter\n"
		":VERDICTD-DECIDED - [0:0]\n"
		":VERDICTD-INPUT - [0:0]\n"
		"-A VERDICTD-DECIDED -m mark --mark 0x8000000/0x8000000 -j CONNMARK --save-mark "
		"--nfmask 0xf000000 --ctmask 0xf000000\n"
		"-A VERDICTD-DECIDED -m connmark --mark 0x9000000/0xf000000 -j ACCEPT\n"
		"-A VERDICTD-DECIDED -m connmark --mark 0xa000000/0xf000000 -j DROP\n"
		"-A VERDICTD-DECIDED -m connmark --mark 0xc000000/0xf000000 -j REJECT --reject-with "
		"icmp-port-unreachable\n"
		"-A VERDICTD-DECIDED -p tcp -m connmark --mark 0xd000000/0xf000000 -j REJECT "
		"--reject-with tcp-reset\n"
		"-A VERDICTD-DECIDED -m connmark --mark 0xd000000/0xf000000 -j REJECT --reject-with "
		"icmp-port-unreachable\n"
		"-A VERDICTD-DECIDED -m connmark --mark 0xe000000/0xf000000 -j REJECT --reject-with "
		"icmp-admin-prohibited\n"
		"-A VERDICTD-DECIDED -m connmark --mark 0xf000000/0xf000000 -j REJECT --reject-with "
		"icmp-host-unreachable\n"
		"-A VERDICTD-DECIDED -m mark --mark 0x1000000/0x7000000 -j ACCEPT\n"
		"-A VERDICTD-DECIDED -m mark --mark 0x2000000/0x7000000 -j DROP\n"
		"-A VERDICTD-DECIDED -m mark --mark 0x4000000/0x7000000 -j REJECT --reject-with "
		"icmp-port-unreachable\n"
		"-A VERDICTD-DECIDED -p tcp -m mark --mark 0x5000000/0x7000000 -j REJECT "
		"--reject-with tcp-reset\n"
		"-A VERDICTD-DECIDED -m mark --mark 0x5000000/0x7000000 -j REJECT --reject-with "
		"icmp-port-unreachable\n"
		"-A VERDICTD-DECIDED -m mark --mark 0x6000000/0x7000000 -j REJECT --reject-with "
		"icmp-admin-prohibited\n"
		"-A VERDICTD-DECIDED -m mark --mark 0x7000000/0x7000000 -j REJECT --reject-with "
		"icmp-host-unreachable\n"
		"-A VERDICTD-INPUT -m mark --mark 0x0/0xf000000 -m connmark --mark 0x9000000/0xf000000 "
		"-j ACCEPT\n"
		"-A VERDICTD-INPUT -m mark --mark 0x3000000/0xf000000 -j RETURN\n"
		"-A VERDICTD-INPUT -m mark ! --mark 0x0/0xf000000 -j VERDICTD-DECIDED\n"
		"-A VERDICTD-INPUT -m connmark ! --mark 0x0/0xf000000 -j VERDICTD-DECIDED\n"
		"-A VERDICTD-INPUT -j NFQUEUE --queue-num 4 --queue-bypass\n"
		"-I INPUT 1 -j VERDICTD-INPUT\n"
		"COMMIT\n";

	(void)state;
	assert_string_equal(write_set(&cfg, AF_INET, VD_FW_HOOK_INPUT), want);
}

/* IPv6 names its ICMP codes differently; a low mask shifts every value;
 * several queues balance; first packets come before the queue rule; no
 * jump when the caller found it already there. */
static void test_ip6_low_mask_balance_first_packets(void **state)
{
	struct vd_firewall_config cfg = { .queue_first = 2, .nqueues = 3,
					  .hooks = VD_FW_HOOK_FORWARD | VD_FW_HOOK_OUTPUT,
					  .mark_mask = 0xf0, .first_packets = 3 };
	const char *t = write_set(&cfg, AF_INET6, 0);
	const char *fb, *q;

	(void)state;
	assert_non_null(strstr(t, ":VERDICTD-DECIDED - [0:0]\n:VERDICTD-FORWARD - [0:0]\n"
				  ":VERDICTD-OUTPUT - [0:0]\n"));
	assert_null(strstr(t, "VERDICTD-INPUT"));
	assert_null(strstr(t, "-I "));
	assert_null(strstr(t, "icmp-"));
	assert_non_null(strstr(t, "-A VERDICTD-OUTPUT -m mark --mark 0x30/0xf0 -j RETURN\n"));
	assert_non_null(strstr(t, "-m mark --mark 0x60/0x70 -j REJECT --reject-with "
				  "icmp6-adm-prohibited\n"));
	assert_non_null(strstr(t, "-m connmark --mark 0xf0/0xf0 -j REJECT --reject-with "
				  "icmp6-addr-unreachable\n"));
	fb = strstr(t, "-A VERDICTD-FORWARD -m connbytes --connbytes 4: --connbytes-dir both "
		       "--connbytes-mode packets -j ACCEPT\n");
	q = strstr(t, "-A VERDICTD-FORWARD -j NFQUEUE --queue-balance 2:4 --queue-bypass\n");
	assert_non_null(fb);
	assert_non_null(q);
	assert_true(fb < q);
}

/* The hook chain with first packets, rule by rule: the fast path (a plain
 * packet of a connection marked PAST, then of one decided "accept") is the
 * first two rules, the cheap packet mark first in each; the third marks a
 * plain connection past N PAST; every other packet meets the loop guard,
 * the codes and connbytes as before. */
static void test_fast_path_first(void **state)
{
	struct vd_firewall_config cfg = { .nqueues = 1, .hooks = VD_FW_HOOK_OUTPUT,
					  .mark_mask = VD_KMARK_DEFAULT_MASK, .first_packets = 4 };
	static const char want[] =
		"-A VERDICTD-OUTPUT -m mark --mark 0x0/0xf000000 -m connmark --mark 0xb000000/0xf000000 "
		"-j ACCEPT\n"
		"-A VERDICTD-OUTPUT -m mark --mark 0x0/0xf000000 -m connmark --mark 0x9000000/0xf000000 "
		"-j ACCEPT\n"
		"-A VERDICTD-OUTPUT -m mark --mark 0x0/0xf000000 -m connmark --mark 0x0/0xf000000 "
		"-m connbytes --connbytes 5: --connbytes-dir both --connbytes-mode packets "
		"-j CONNMARK --set-xmark 0xb000000/0xf000000\n"
		"-A VERDICTD-OUTPUT -m mark --mark 0x3000000/0xf000000 -j RETURN\n"
		"-A VERDICTD-OUTPUT -m mark ! --mark 0x0/0xf000000 -j VERDICTD-DECIDED\n"
		"-A VERDICTD-OUTPUT -m connmark ! --mark 0x0/0xf000000 -j VERDICTD-DECIDED\n"
		"-A VERDICTD-OUTPUT -m connbytes --connbytes 5: --connbytes-dir both "
		"--connbytes-mode packets -j ACCEPT\n"
		"-A VERDICTD-OUTPUT -j NFQUEUE --queue-num 0 --queue-bypass\n"
		"COMMIT\n";
	const char *first = strstr(write_set(&cfg, AF_INET, 0), "-A VERDICTD-OUTPUT ");

	(void)state;
	assert_non_null(first);
	assert_string_equal(first, want);
}

/* The nft flavour's fast path: the same three rules, the third setting the
 * connection's PAST code and accepting in one. */
static void test_nft_fast_path_first(void **state)
{
	struct vd_firewall_config cfg = { .nqueues = 1, .hooks = VD_FW_HOOK_OUTPUT,
					  .mark_mask = VD_KMARK_DEFAULT_MASK, .first_packets = 4 };
	static const char want[] =
		"\t\tmeta mark & 0x0f000000 == 0 ct mark & 0x0f000000 == 0x0b000000 accept\n"
		"\t\tmeta mark & 0x0f000000 == 0 ct mark & 0x0f000000 == 0x09000000 accept\n"
		"\t\tmeta mark & 0x0f000000 == 0 ct mark & 0x0f000000 == 0 ct packets > 4 "
		"ct mark set ct mark & 0xf0ffffff | 0x0b000000 accept\n"
		"\t\tmeta mark & 0x0f000000 == 0x03000000 return\n";
	size_t len;
	FILE *f;
	const char *first;

	(void)state;
	free(text);
	f = open_memstream(&text, &len);
	assert_int_equal(vd_firewall_nft_write(f, &cfg), 0);
	fclose(f);
	first = strstr(text, "policy accept;\n");
	assert_non_null(first);
	first += strlen("policy accept;\n");
	assert_memory_equal(first, want, strlen(want));
}

static unsigned offload_calls;

static unsigned offload_one(FILE *out, const char *chain, int family, void *ctx)
{
	offload_calls++;
	fprintf(out, "-A %s -p udp --dport %d -m comment --comment \"verdictd rule 1\" -j %s\n",
		chain, family == AF_INET6 ? 6 : 4, (const char *)ctx);
	return 1;
}

/* The offload point: once per chain, after first packets, before the queue. */
static void test_offload_between_first_packets_and_queue(void **state)
{
	struct vd_firewall_config cfg = { .nqueues = 1, .hooks = VD_FW_HOOK_INPUT | VD_FW_HOOK_OUTPUT,
					  .mark_mask = VD_KMARK_DEFAULT_MASK, .first_packets = 1,
					  .offload = offload_one, .offload_ctx = "DROP" };
	const char *t, *fb, *off, *q;

	(void)state;
	offload_calls = 0;
	t = write_set(&cfg, AF_INET6, 0);
	assert_int_equal(offload_calls, 2);
	fb = strstr(t, "-A VERDICTD-OUTPUT -m connbytes --connbytes 2:");
	off = strstr(t, "-A VERDICTD-OUTPUT -p udp --dport 6 -m comment --comment \"verdictd rule 1\" "
			"-j DROP\n");
	q = strstr(t, "-A VERDICTD-OUTPUT -j NFQUEUE --queue-num 0 --queue-bypass\n");
	assert_non_null(fb);
	assert_non_null(off);
	assert_non_null(q);
	assert_true(fb < off && off < q);
}

static void test_removal(void **state)
{
	struct vd_firewall_config cfg = { .nqueues = 1, .hooks = VD_FW_HOOK_INPUT | VD_FW_HOOK_OUTPUT,
					  .mark_mask = VD_KMARK_DEFAULT_MASK };
	size_t len;
	FILE *f;

	(void)state;
	free(text);
	f = open_memstream(&text, &len);
	/* Only INPUT's jump was found: OUTPUT's is not deleted (it would fail
	 * the whole transaction), its chain still is. */
	assert_int_equal(vd_firewall_write_removal(f, &cfg, VD_FW_HOOK_INPUT, true), 0);
	fclose(f);
	assert_string_equal(text, "*filter\n"
				  "-D INPUT -j VERDICTD-INPUT\n"
				  ":VERDICTD-INPUT - [0:0]\n-X VERDICTD-INPUT\n"
				  ":VERDICTD-OUTPUT - [0:0]\n-X VERDICTD-OUTPUT\n"
				  ":VERDICTD-DECIDED - [0:0]\n-X VERDICTD-DECIDED\n"
				  "COMMIT\n");
	/* A stale hook's chains only: the chains in use still jump to
	 * VERDICTD-DECIDED. */
	free(text);
	f = open_memstream(&text, &len);
	assert_int_equal(vd_firewall_write_removal(f, &cfg, 0, false), 0);
	fclose(f);
	assert_null(strstr(text, "DECIDED"));
}

static void test_hooks_parse(void **state)
{
	unsigned h;

	(void)state;
	assert_int_equal(vd_firewall_hooks_parse("input", &h), 0);
	assert_int_equal(h, VD_FW_HOOK_INPUT);
	assert_int_equal(vd_firewall_hooks_parse("output,forward,input", &h), 0);
	assert_int_equal(h, VD_FW_HOOK_INPUT | VD_FW_HOOK_FORWARD | VD_FW_HOOK_OUTPUT);
	assert_int_equal(vd_firewall_hooks_parse("forward,forward", &h), 0);
	assert_int_equal(h, VD_FW_HOOK_FORWARD);
	assert_int_equal(vd_firewall_hooks_parse("", &h), -1);
	assert_int_equal(vd_firewall_hooks_parse("prerouting", &h), -1);
	assert_int_equal(vd_firewall_hooks_parse("input,", &h), -1);
	assert_int_equal(vd_firewall_hooks_parse(",input", &h), -1);
	assert_int_equal(vd_firewall_hooks_parse("inputs", &h), -1);
	assert_int_equal(vd_firewall_hooks_parse("INPUT", &h), -1);
}

static void test_queue_ranges(void **state)
{
	struct vd_firewall_config cfg = { 0 };
	unsigned three[] = { 7, 5, 6 }, gap[] = { 0, 2 }, one[] = { 65535 };

	(void)state;
	assert_int_equal(vd_firewall_queues_set(&cfg, three, 3), 0);
	assert_int_equal(cfg.queue_first, 5);
	assert_int_equal(cfg.nqueues, 3);
	assert_int_equal(vd_firewall_queues_set(&cfg, one, 1), 0);
	assert_int_equal(cfg.queue_first, 65535);
	assert_int_equal(vd_firewall_queues_set(&cfg, gap, 2), -1);
	assert_int_equal(vd_firewall_queues_set(&cfg, gap, 0), -1);
}

/* The backend of `iptables -V` (and ip6tables -V): the last parenthesised
 * word, "unknown" for anything else. */
static void test_backend_parse(void **state)
{
	static const struct { const char *line, *want; } cases[] = {
		{ "iptables v1.8.9 (nf_tables)\n", "nf_tables" },
		{ "ip6tables v1.8.9 (legacy)\n", "legacy" },
		{ "iptables v1.4.21\n", "unknown" },
		{ "iptables v1.8.9 ()\n", "unknown" },
		{ "iptables v1.8.9 (nf tables)\n", "unknown" },
		{ "iptables v1.8.9 (averyveryverylongbackendname)\n", "unknown" },
		{ "", "unknown" },
		{ NULL, "unknown" },
	};
	char out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vd_firewall_backend_parse(cases[i].line, out, sizeof(out));
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu: want %s, got %s", i, cases[i].want, out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_input_chain_exact),
		cmocka_unit_test(test_ip6_low_mask_balance_first_packets),
		cmocka_unit_test(test_fast_path_first),
		cmocka_unit_test(test_nft_fast_path_first),
		cmocka_unit_test(test_offload_between_first_packets_and_queue),
		cmocka_unit_test(test_removal),
		cmocka_unit_test(test_hooks_parse),
		cmocka_unit_test(test_queue_ranges),
		cmocka_unit_test(test_backend_parse),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(text);
	return rc;
}
