/* test_cli.c - verdictd's options: values, defaults, and one-line errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <verdict/nflog.h>
#include <verdict/queue.h>

#include <verdict/kernel_mark.h>

#include "cli.h"
#include "firewall_install.h"
#include "control_protocol.h"
#include "spec.h"

struct run {
	enum vd_cli_action action;
	char *out, *err;
};

static struct vd_cli_options opts;

/* Parses a NULL-terminated argument list (argv[0] is added). */
static struct run parse(const char *first, ...)
{
	char *argv[32] = { "verdictd" };
	int argc = 1;
	size_t outlen, errlen;
	struct run r = { 0 };
	FILE *out = open_memstream(&r.out, &outlen);
	FILE *err = open_memstream(&r.err, &errlen);
	va_list ap;

	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	r.action = vd_cli_parse(argc, argv, &opts, out, err);
	fclose(out);
	fclose(err);
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* Asserts a usage error whose single line contains want. */
static void expect_error(struct run r, const char *want)
{
	assert_int_equal(r.action, VD_CLI_EXIT_USAGE);
	if (!strstr(r.err, want))
		fail_msg("error \"%s\" does not contain \"%s\"", r.err, want);
	assert_int_equal(strchr(r.err, '\n') - r.err, (long)strlen(r.err) - 1);
	run_free(&r);
}

static void test_defaults(void **state)
{
	struct run r = parse("--queue", "0", NULL);

	(void)state;
	assert_int_equal(r.action, VD_CLI_RUN);
	assert_int_equal(opts.nqueues, 1);
	assert_int_equal(opts.queues[0], 0);
	assert_int_equal(opts.default_verdict.kind, VD_VERDICT_ACCEPT);
	/* GSO packets whole unless --no-gso. */
	assert_int_equal(opts.queue_flags, VD_QUEUE_F_GSO);
	assert_int_equal(opts.optional_flags, VD_QUEUE_F_CONNTRACK | VD_QUEUE_F_UID_GID);
	assert_int_equal(opts.copy_range, 0);
	assert_int_equal(opts.maxlen, 0);
	assert_int_equal(opts.maxlen_max, 0);
	assert_int_equal(opts.queue_rcvbuf_max, 0);
	assert_true(opts.stats_interval == 0);
	assert_string_equal(r.err, "");
	run_free(&r);
}

static void test_every_option(void **state)
{
	struct run r = parse("-q", "0-3", "--default", "drop", "--copy-range", "128", "--maxlen",
			     "4096", "--fail-open", "--gso", "--secctx", "--no-uid-gid", "--conntrack",
			     "--cpus", "0", "--stats-interval", "0.5", "--batch", "32", "--rcvbuf", "4M",
			     "--maxlen-max", "8192", "--queue-rcvbuf-max", "32M", "-v", NULL);

	(void)state;
	assert_int_equal(r.action, VD_CLI_RUN);
	assert_int_equal(opts.nqueues, 4);
	assert_int_equal(opts.queues[3], 3);
	assert_int_equal(opts.default_verdict.kind, VD_VERDICT_DROP);
	assert_int_equal(opts.copy_range, 128);
	assert_int_equal(opts.maxlen, 4096);
	assert_int_equal(opts.queue_flags, VD_QUEUE_F_FAIL_OPEN | VD_QUEUE_F_GSO |
					     VD_QUEUE_F_SECCTX | VD_QUEUE_F_CONNTRACK);
	assert_int_equal(opts.optional_flags, VD_QUEUE_F_CONNTRACK);
	assert_int_equal(opts.ncpus, 1);
	assert_true(opts.stats_interval == 0.5);
	assert_int_equal(opts.batch, 32);
	assert_int_equal(opts.rcvbuf, 4u << 20);
	assert_int_equal(opts.maxlen_max, 8192);
	assert_int_equal(opts.queue_rcvbuf_max, 32u << 20);
	assert_int_equal(opts.verbose, 1);
	run_free(&r);
	/* --no-gso asks for segments; --gso, the default, is still taken. */
	r = parse("-q", "0", "--no-gso", NULL);
	assert_int_equal(opts.queue_flags, 0);
	run_free(&r);
	r = parse("-q", "0", "--no-gso", "--gso", NULL);
	assert_int_equal(opts.queue_flags, VD_QUEUE_F_GSO);
	run_free(&r);
}

/* Asserts a run with --realtime want. */
static void expect_realtime(struct run r, int want)
{
	assert_int_equal(r.action, VD_CLI_RUN);
	assert_int_equal(opts.realtime, want);
	run_free(&r);
}

/* --realtime PRIO: a SCHED_FIFO priority for queue workers; --check takes it
 * (a unit file's command line checked as it is). */
static void test_realtime(void **state)
{
	struct run r;

	(void)state;
	expect_realtime(parse("--queue", "0", NULL), 0);
	expect_realtime(parse("--queue", "0-1", "--realtime", "7", NULL), 7);
	expect_realtime(parse("--queue", "0", "--realtime", "99", "--nflog", "5", NULL), 99);
	expect_realtime(parse("--check", "r.lua", "--realtime", "10", NULL), 10);
	r = parse("--help", NULL);
	assert_non_null(strstr(r.out, "--realtime PRIO     run queue workers SCHED_FIFO at PRIO"));
	run_free(&r);
	expect_error(parse("--queue", "0", "--realtime", "0", NULL),
		     "--realtime: \"0\" is not a SCHED_FIFO priority from 1 to 99");
	expect_error(parse("--queue", "0", "--realtime", "100", NULL), "--realtime: \"100\"");
	expect_error(parse("--queue", "0", "--realtime", "high", NULL), "--realtime: \"high\"");
	expect_error(parse("--queue", "0", "--realtime", "-1", NULL), "--realtime: \"-1\"");
	expect_error(parse("--nflog", "5", "--realtime", "10", NULL),
		     "--realtime: applies to queue workers only");
}

static void test_help_and_version(void **state)
{
	struct run r = parse("--help", NULL);

	(void)state;
	assert_int_equal(r.action, VD_CLI_EXIT_OK);
	assert_non_null(strstr(r.out, "Usage: verdictd --queue SPEC"));
	assert_non_null(strstr(r.out, "--stats-interval"));
	run_free(&r);
	r = parse("--version", NULL);
	assert_int_equal(r.action, VD_CLI_EXIT_OK);
	assert_non_null(strstr(r.out, "verdictd 0."));
	run_free(&r);
}

/* Each exit status, and what leads to it, is in --help. */
static void test_help_gives_exit_statuses(void **state)
{
	struct run r = parse("--help", NULL);
	const char *status = strstr(r.out, "\nExit status:\n");

	(void)state;
	assert_non_null(status);
	assert_non_null(strstr(status, "\n  0  stopped by SIGINT or SIGTERM"));
	assert_non_null(strstr(status, "\n  1  a failure at run time: a queue or group that cannot "
				       "be bound"));
	assert_non_null(strstr(status, "\n  2  what was given is wrong: a bad option or value, a "
				       "rules file that is\n     missing or does not load"));
	run_free(&r);
}

static void test_bad_arguments_name_option_and_value(void **state)
{
	(void)state;
	expect_error(parse(NULL), "--queue or --nflog is required");
	expect_error(parse("--queue", "x", NULL), "--queue: \"x\" at offset 0");
	expect_error(parse("--queue", "0,70000", NULL), "\"70000\" at offset 2");
	expect_error(parse("--queue", "3-1", NULL), "--queue: \"3-1\"");
	expect_error(parse("--queue", "1,1", NULL), "1 is listed twice");
	expect_error(parse("--queue", "0", "--default", "maybe", NULL), "--default: \"maybe\"");
	expect_error(parse("--queue", "0", "--default", "repeat", NULL), "--default: \"repeat\"");
	expect_error(parse("--queue", "0", "--default", "reject", NULL), "--default: \"reject\"");
	expect_error(parse("--queue", "0", "--copy-range", "0", NULL), "--copy-range: \"0\"");
	expect_error(parse("--queue", "0", "--copy-range", "70000", NULL), "--copy-range");
	expect_error(parse("--queue", "0", "--copy-range", "-5", NULL), "--copy-range: \"-5\"");
	expect_error(parse("--queue", "0", "--maxlen", "ten", NULL), "--maxlen: \"ten\"");
	expect_error(parse("--queue", "0", "--batch", "5000", NULL), "--batch: \"5000\"");
	expect_error(parse("--queue", "0", "--maxlen-max", "0", NULL), "--maxlen-max: \"0\"");
	expect_error(parse("--queue", "0", "--queue-rcvbuf-max", "1K", NULL),
		     "--queue-rcvbuf-max: \"1K\"");
	expect_error(parse("--queue", "0", "--rcvbuf", "12Q", NULL), "--rcvbuf: \"12Q\"");
	expect_error(parse("--queue", "0", "--stats-interval", "0", NULL), "--stats-interval");
	expect_error(parse("--queue", "0", "--cpus", "4096", NULL), "--cpus: \"4096\"");
	expect_error(parse("--queue", "0", "--frobnicate", NULL), "unknown option \"--frobnicate\"");
	expect_error(parse("--queue", "0", "-x", NULL), "unknown option \"-x\"");
	expect_error(parse("--queue", NULL), "option \"--queue\" needs a value");
	expect_error(parse("--queue", "0", "extra", NULL), "unexpected argument \"extra\"");
	/* A group for a socket that does not exist. */
	expect_error(parse("--queue", "0", "--control-group", "adm", NULL),
		     "--control-group adm: there is no control socket");
	expect_error(parse("--queue", "0", "--rules", "r.lua", "--control", "none", "--control-group",
			   "adm", NULL), "there is no control socket");
	expect_error(parse("--queue", "0", "--rules", "r.lua", "--control-group", "", NULL),
		     "--control-group: an empty group name");
}

static void test_control_group(void **state)
{
	struct run r;

	(void)state;
	r = parse("--queue", "0", "--rules", "r.lua", "--control-group", "adm", NULL);
	assert_int_equal(r.action, VD_CLI_RUN);
	assert_string_equal(opts.control, VD_CONTROL_DEFAULT_PATH);
	assert_string_equal(opts.control_group, "adm");
	run_free(&r);
	r = parse("--queue", "0", "--control", "/tmp/c.sock", "--control-group", "4", NULL);
	assert_int_equal(r.action, VD_CLI_RUN);
	assert_string_equal(opts.control_group, "4");
	run_free(&r);
	r = parse("--help", NULL);
	assert_non_null(strstr(r.out, "--control-group GROUP"));
	run_free(&r);
}

static void test_spec_lists(void **state)
{
	unsigned v[8];
	char err[128];

	(void)state;
	assert_int_equal(vd_spec_parse("0,2,5", 10, v, 8, err, sizeof(err)), 3);
	assert_int_equal(v[2], 5);
	assert_int_equal(vd_spec_parse("0-1,4-5", 10, v, 8, err, sizeof(err)), 4);
	assert_int_equal(v[2], 4);
	assert_int_equal(vd_spec_parse("7", 10, v, 8, err, sizeof(err)), 1);
	assert_int_equal(vd_spec_parse("0-9", 10, v, 8, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 8 values"));
	assert_int_equal(vd_spec_parse("", 10, v, 8, err, sizeof(err)), -1);
	assert_int_equal(vd_spec_parse("1,", 10, v, 8, err, sizeof(err)), -1);
	assert_int_equal(vd_spec_parse(",1", 10, v, 8, err, sizeof(err)), -1);
	assert_int_equal(vd_spec_parse("1 ,2", 10, v, 8, err, sizeof(err)), -1);
	assert_int_equal(vd_spec_parse("+1", 10, v, 8, err, sizeof(err)), -1);
	assert_int_equal(vd_spec_parse("11", 10, v, 8, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "from 0 to 10"));
}

/* Parsing twice must not carry state (getopt is reset). */
static void test_nflog_and_outputs(void **state)
{
	struct run r;

	(void)state;
	r = parse("--nflog", "5,7-8", "--nflog-copy", "meta", "--nflog-range", "128",
		  "--nflog-threshold", "16", "--nflog-timeout", "5", "--nflog-nlbufsiz", "64K",
		  "--nflog-flags", "seq,seq-global,conntrack", "--nflog-rcvbuf-max", "32M",
		  "--netns", "lab", "--log-json", "-", "--log-pcap", "/tmp/x.pcap",
		  "--log-pcap-linktype", "raw", NULL);
	assert_int_equal(r.action, VD_CLI_RUN);
	run_free(&r);
	assert_int_equal(opts.ngroups, 3);
	assert_int_equal(opts.groups[0], 5);
	assert_int_equal(opts.groups[2], 8);
	assert_int_equal(opts.nqueues, 0);
	assert_int_equal(opts.nflog_copy, VD_NFLOG_COPY_META);
	assert_int_equal(opts.nflog_range, 128);
	assert_int_equal(opts.nflog_threshold, 16);
	assert_int_equal(opts.nflog_timeout, 5);
	assert_int_equal(opts.nflog_nlbufsiz, 65536);
	assert_int_equal(opts.nflog_flags,
			 VD_NFLOG_F_SEQ | VD_NFLOG_F_SEQ_GLOBAL | VD_NFLOG_F_CONNTRACK);
	assert_int_equal(opts.nflog_rcvbuf_max, 32u << 20);
	assert_string_equal(opts.netns, "lab");
	assert_string_equal(opts.log_json, "-");
	assert_string_equal(opts.log_pcap, "/tmp/x.pcap");
	assert_true(opts.pcap_raw);

	r = parse("--replay", "x.pcap", "--rules", "r.lua", NULL);
	assert_int_equal(r.action, VD_CLI_RUN);
	run_free(&r);
	assert_string_equal(opts.replay, "x.pcap");

	r = parse("--replay", "x.pcap", "--rules", "r.lua", "--write-pcap", "o.pcap", NULL);
	assert_int_equal(r.action, VD_CLI_RUN);
	run_free(&r);
	assert_string_equal(opts.write_pcap, "o.pcap");
	expect_error(parse("--rules", "r.lua", "--write-pcap", "o.pcap", NULL),
		     "--write-pcap o.pcap: works with --replay FILE only");
	expect_error(parse("--queue", "0", "--write-pcap", "o.pcap", NULL),
		     "--write-pcap o.pcap: works with --replay FILE only");
	expect_error(parse("--check", "r.lua", "--write-pcap", "o.pcap", NULL),
		     "--write-pcap o.pcap: works with --replay FILE only");
	expect_error(parse("--replay", "x.pcap", "--rules", "r", "--write-pcap", "o.pcap",
			   "--log-pcap", "o.pcap", NULL),
		     "--write-pcap o.pcap: also given to --log-pcap");
	expect_error(parse("--replay", "x.pcap", NULL), "--replay needs --rules");
	expect_error(parse("--replay", "x.pcap", "--rules", "r", "--queue", "0", NULL),
		     "--replay works offline");
	expect_error(parse("--nflog", "5", "--nflog-flags", "seq,bogus", NULL),
		     "--nflog-flags: \"seq,bogus\"");
	expect_error(parse("--nflog", "5", "--nflog-copy", "all", NULL), "--nflog-copy: \"all\"");
	expect_error(parse("--nflog", "5", "--nflog-range", "0", NULL), "--nflog-range: \"0\"");
	expect_error(parse("--nflog", "70000", NULL), "--nflog");
	expect_error(parse("--nflog", "5", "--log-pcap-linktype", "eth", NULL),
		     "--log-pcap-linktype: \"eth\"");
}

static void test_parse_is_repeatable(void **state)
{
	struct run r = parse("--queue", "1", "--no-gso", NULL);

	(void)state;
	run_free(&r);
	r = parse("--queue", "2", NULL);
	assert_int_equal(r.action, VD_CLI_RUN);
	assert_int_equal(opts.queues[0], 2);
	assert_int_equal(opts.queue_flags, VD_QUEUE_F_GSO);
	run_free(&r);
}

/* The generated kernel rules' options (cli_firewall.c). */
static void test_firewall_options(void **state)
{
	struct run r;

	(void)state;
	r = parse("--queue", "0", NULL);
	assert_int_equal(r.action, VD_CLI_RUN);
	assert_int_equal(opts.firewall, 0);
	assert_int_equal(opts.kernel_mark_mask, 0);
	run_free(&r);
	r = parse("--queue", "1-2", "--firewall", "auto", NULL);
	assert_int_equal(r.action, VD_CLI_RUN);
	assert_int_equal(opts.firewall, VD_FW_FLAVOUR_AUTO);
	assert_int_equal(opts.hooks, VD_FW_HOOK_INPUT);
	assert_int_equal(opts.kernel_mark_mask, VD_KMARK_DEFAULT_MASK);
	assert_false(opts.kernel_mark_mask_explicit);
	run_free(&r);
	r = parse("--queue", "0", "--print-firewall=ip6", "--hooks", "output,forward",
		  "--first-packets", "7", "--bypass-mark", "0xf0", NULL);
	assert_int_equal(r.action, VD_CLI_RUN);
	assert_int_equal(opts.print_firewall, VD_CLI_PRINT_IP6);
	assert_int_equal(opts.hooks, VD_FW_HOOK_OUTPUT | VD_FW_HOOK_FORWARD);
	assert_int_equal(opts.first_packets, 7);
	assert_int_equal(opts.kernel_mark_mask, 0xf0);
	assert_true(opts.kernel_mark_mask_explicit);
	run_free(&r);
	/* Explicit without generated rules: the user loads them by hand. */
	r = parse("--queue", "0", "--bypass-mark", "0xf000", NULL);
	assert_int_equal(r.action, VD_CLI_RUN);
	assert_int_equal(opts.kernel_mark_mask, 0xf000);
	run_free(&r);
	r = parse("--print-firewall", "--queue", "0", NULL);
	assert_int_equal(opts.print_firewall, VD_CLI_PRINT_IP4 | VD_CLI_PRINT_IP6);
	run_free(&r);
	expect_error(parse("--queue", "0", "--firewall", "ipt", NULL),
		     "--firewall: \"ipt\" is not iptables, nft or auto");
	expect_error(parse("--queue", "0", "--print-firewall=ip5", NULL), "\"ip5\" is not ip4");
	expect_error(parse("--queue", "0", "--firewall", "iptables", "--hooks", "prerouting", NULL),
		     "--hooks: \"prerouting\" is not a list of input, forward, output");
	expect_error(parse("--queue", "0", "--firewall", "iptables", "--first-packets", "0", NULL),
		     "--first-packets: \"0\" is not a number");
	expect_error(parse("--queue", "0", "--bypass-mark", "0x1d", NULL),
		     "--bypass-mark: \"0x1d\" is not 4 contiguous mark bits");
	expect_error(parse("--queue", "0", "--bypass-mark", "0", NULL), "\"0\" is not 4 contiguous");
	expect_error(parse("--queue", "0", "--first-packets", "3", NULL),
		     "--first-packets: needs the generated kernel rules");
	expect_error(parse("--queue", "0", "--hooks", "input", NULL), "--hooks: needs the generated");
	expect_error(parse("--queue", "0,2", "--firewall", "iptables", NULL),
		     "contiguous queue numbers");
	expect_error(parse("--nflog", "5", "--firewall", "iptables", NULL),
		     "--firewall needs --queue SPEC");
	expect_error(parse("--queue", "0", "--firewall", "iptables", "--print-firewall", NULL),
		     "give one");
	r = parse("--help", NULL);
	assert_non_null(strstr(r.out, "--firewall iptables|nft|auto"));
	assert_non_null(strstr(r.out, "--bypass-mark MASK"));
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_option),
		cmocka_unit_test(test_realtime),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_help_gives_exit_statuses),
		cmocka_unit_test(test_bad_arguments_name_option_and_value),
		cmocka_unit_test(test_spec_lists),
		cmocka_unit_test(test_parse_is_repeatable),
		cmocka_unit_test(test_control_group),
		cmocka_unit_test(test_nflog_and_outputs),
		cmocka_unit_test(test_firewall_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
