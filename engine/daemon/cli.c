/* cli.c - verdictd's options: getopt_long and validation (the help text is
 * cli_help.c). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <verdict/libverdict.h>

#include "cli.h"
#include "cli_help.h"
#include "cli_firewall.h"
#include "control.h"
#include "spec.h"

enum {
	OPT_COPY_RANGE = 256, OPT_MAXLEN, OPT_HOLD_MAX, OPT_FAIL_OPEN, OPT_GSO, OPT_SECCTX, OPT_CONNTRACK, OPT_NO_CONNTRACK,
	OPT_NO_UID_GID, OPT_CPUS, OPT_STATS_INTERVAL, OPT_BATCH, OPT_RCVBUF, OPT_CHECK,
	OPT_CONTROL, OPT_PLUGIN_PATH, OPT_LUA_MEMORY, OPT_LUA_INSTRUCTIONS,
	OPT_LUA_CALL_MS, OPT_LUA_LOAD_INSTRUCTIONS, OPT_LUA_LOAD_MS,
	OPT_NFLOG, OPT_NFLOG_COPY, OPT_NFLOG_RANGE, OPT_NFLOG_THRESHOLD, OPT_NFLOG_TIMEOUT,
	OPT_NFLOG_NLBUFSIZ, OPT_NFLOG_FLAGS, OPT_NFLOG_RCVBUF_MAX, OPT_NETNS, OPT_LOG_JSON,
	OPT_LOG_PCAP, OPT_LOG_PCAP_LINKTYPE, OPT_REPLAY, OPT_CONTROL_GROUP, OPT_WRITE_PCAP,
	OPT_METRICS_FILE, OPT_NO_GSO, OPT_MAXLEN_MAX, OPT_QUEUE_RCVBUF_MAX, OPT_USER, OPT_GROUP,
	OPT_NO_SECCOMP, OPT_REALTIME,
};

static const struct option long_options[] = {
	{ "queue", required_argument, NULL, 'q' },
	{ "rules", required_argument, NULL, 'r' },
	{ "default", required_argument, NULL, 'd' },
	{ "copy-range", required_argument, NULL, OPT_COPY_RANGE },
	{ "maxlen", required_argument, NULL, OPT_MAXLEN },
	{ "hold-max", required_argument, NULL, OPT_HOLD_MAX },
	{ "fail-open", no_argument, NULL, OPT_FAIL_OPEN },
	{ "gso", no_argument, NULL, OPT_GSO },
	{ "no-gso", no_argument, NULL, OPT_NO_GSO },
	{ "maxlen-max", required_argument, NULL, OPT_MAXLEN_MAX },
	{ "queue-rcvbuf-max", required_argument, NULL, OPT_QUEUE_RCVBUF_MAX },
	{ "secctx", no_argument, NULL, OPT_SECCTX },
	{ "conntrack", no_argument, NULL, OPT_CONNTRACK },
	{ "no-conntrack", no_argument, NULL, OPT_NO_CONNTRACK },
	{ "no-uid-gid", no_argument, NULL, OPT_NO_UID_GID },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "realtime", required_argument, NULL, OPT_REALTIME },
	{ "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL },
	{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "rcvbuf", required_argument, NULL, OPT_RCVBUF },
	{ "check", required_argument, NULL, OPT_CHECK },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "control-group", required_argument, NULL, OPT_CONTROL_GROUP },
	{ "plugin-path", required_argument, NULL, OPT_PLUGIN_PATH },
	{ "lua-memory", required_argument, NULL, OPT_LUA_MEMORY },
	{ "lua-instructions", required_argument, NULL, OPT_LUA_INSTRUCTIONS },
	{ "lua-call-ms", required_argument, NULL, OPT_LUA_CALL_MS },
	{ "lua-load-instructions", required_argument, NULL, OPT_LUA_LOAD_INSTRUCTIONS },
	{ "lua-load-ms", required_argument, NULL, OPT_LUA_LOAD_MS },
	{ "nflog", required_argument, NULL, OPT_NFLOG },
	{ "nflog-copy", required_argument, NULL, OPT_NFLOG_COPY },
	{ "nflog-range", required_argument, NULL, OPT_NFLOG_RANGE },
	{ "nflog-threshold", required_argument, NULL, OPT_NFLOG_THRESHOLD },
	{ "nflog-timeout", required_argument, NULL, OPT_NFLOG_TIMEOUT },
	{ "nflog-nlbufsiz", required_argument, NULL, OPT_NFLOG_NLBUFSIZ },
	{ "nflog-flags", required_argument, NULL, OPT_NFLOG_FLAGS },
	{ "nflog-rcvbuf-max", required_argument, NULL, OPT_NFLOG_RCVBUF_MAX },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "log-json", required_argument, NULL, OPT_LOG_JSON },
	{ "log-pcap", required_argument, NULL, OPT_LOG_PCAP },
	{ "log-pcap-linktype", required_argument, NULL, OPT_LOG_PCAP_LINKTYPE },
	{ "replay", required_argument, NULL, OPT_REPLAY },
	{ "write-pcap", required_argument, NULL, OPT_WRITE_PCAP },
	VD_CLI_FIREWALL_LONG_OPTIONS,
	{ "user", required_argument, NULL, OPT_USER },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Parses an unsigned number in [min, max] with an optional K/M/G suffix
 * (powers of 1024) when suffixes is set. */
static int parse_unsigned(const char *s, unsigned long min, unsigned long max, int suffixes,
			  unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s)
		return -1;
	if (suffixes && *end) {
		const char *units = "KMG";
		const char *u = strchr(units, *end);

		if (!u || end[1] != '\0')
			return -1;
		for (const char *k = units; k <= u; k++) {
			if (v > max / 1024)
				return -1;
			v *= 1024;
		}
		end++;
	}
	if (*end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_interval(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 86400)
		return -1;
	*out = v;
	return 0;
}

static enum vd_cli_action usage_error(FILE *err, const char *fmt, const char *a, const char *b)
{
	fputs("verdictd: ", err);
	fprintf(err, fmt, a, b);
	fputs(" (see verdictd --help)\n", err);
	return VD_CLI_EXIT_USAGE;
}

static enum vd_cli_action parse_list(FILE *err, const char *opt, const char *arg,
				     unsigned max_value, unsigned *out, size_t max_out, size_t *n)
{
	char why[160];
	int count = vd_spec_parse(arg, max_value, out, max_out, why, sizeof(why));

	if (count < 0)
		return usage_error(err, "%s: %s", opt, why);
	*n = (size_t)count;
	return VD_CLI_RUN;
}

static void options_init(struct vd_cli_options *o)
{
	memset(o, 0, sizeof(*o));
	o->default_verdict = vd_verdict_accept();
	o->optional_flags = VD_QUEUE_DEFAULT_OPTIONAL_FLAGS;
	/* Whole GSO packets: a bulk transfer runs near the kernel's speed
	 * instead of at half, as segmenting every one costs (README). */
	o->queue_flags = VD_QUEUE_F_GSO;
}

/* Options that take a bounded number. Returns VD_CLI_RUN when handled. */
static enum vd_cli_action parse_number_option(int opt, const char *arg, struct vd_cli_options *o,
					      FILE *err)
{
	unsigned long v;

	switch (opt) {
	case OPT_COPY_RANGE:
		if (parse_unsigned(arg, 1, VD_QUEUE_MAX_COPY_RANGE, 0, &v) < 0)
			return usage_error(err, "--copy-range: \"%s\" is not a number from 1 to %s",
					   arg, "65535");
		o->copy_range = (uint32_t)v;
		return VD_CLI_RUN;
	case OPT_MAXLEN:
		if (parse_unsigned(arg, 1, 1u << 24, 0, &v) < 0)
			return usage_error(err, "--maxlen: \"%s\" is not a number from 1 to %s", arg,
					   "16777216");
		o->maxlen = (uint32_t)v;
		return VD_CLI_RUN;
	case OPT_HOLD_MAX:
		if (parse_unsigned(arg, 1, 1u << 24, 0, &v) < 0)
			return usage_error(err, "--hold-max: \"%s\" is not a number from 1 to %s",
					   arg, "16777216");
		o->hold_max = (uint32_t)v;
		return VD_CLI_RUN;
	case OPT_BATCH:
		if (parse_unsigned(arg, 1, 1024, 0, &v) < 0)
			return usage_error(err, "--batch: \"%s\" is not a number from 1 to %s", arg,
					   "1024");
		o->batch = (unsigned)v;
		return VD_CLI_RUN;
	case OPT_LUA_MEMORY:
		if (parse_unsigned(arg, 65536, 1ul << 34, 1, &v) < 0)
			return usage_error(err, "--lua-memory: \"%s\" is not a size from 64K to %s", arg,
					   "16G");
		o->lua_memory = (size_t)v;
		return VD_CLI_RUN;
	case OPT_LUA_INSTRUCTIONS:
		if (parse_unsigned(arg, 1000, 1ul << 32, 0, &v) < 0)
			return usage_error(err, "--lua-instructions: \"%s\" is not a number from %s",
					   arg, "1000 to 4294967296");
		o->lua_instructions = (unsigned)(v > UINT32_MAX ? UINT32_MAX : v);
		return VD_CLI_RUN;
	case OPT_LUA_CALL_MS:
		if (parse_unsigned(arg, 1, 60000, 0, &v) < 0)
			return usage_error(err, "--lua-call-ms: \"%s\" is not a number from %s", arg,
					   "1 to 60000");
		o->lua_call_ms = (unsigned)v;
		return VD_CLI_RUN;
	case OPT_LUA_LOAD_INSTRUCTIONS:
		if (parse_unsigned(arg, 1000, 1ul << 40, 0, &v) < 0)
			return usage_error(err, "--lua-load-instructions: \"%s\" is not a number from %s",
					   arg, "1000 to 1099511627776");
		o->lua_load_instructions = v;
		return VD_CLI_RUN;
	case OPT_LUA_LOAD_MS:
		if (parse_unsigned(arg, 1, 3600000, 0, &v) < 0)
			return usage_error(err, "--lua-load-ms: \"%s\" is not a number from %s", arg,
					   "1 to 3600000");
		o->lua_load_ms = (unsigned)v;
		return VD_CLI_RUN;
	case OPT_RCVBUF:
		if (parse_unsigned(arg, 4096, 1ul << 30, 1, &v) < 0)
			return usage_error(err, "--rcvbuf: \"%s\" is not a size from 4K to %s", arg,
					   "1G");
		o->rcvbuf = (unsigned)v;
		return VD_CLI_RUN;
	case OPT_MAXLEN_MAX:
		if (parse_unsigned(arg, 1, 1u << 24, 0, &v) < 0)
			return usage_error(err, "--maxlen-max: \"%s\" is not a number from 1 to %s",
					   arg, "16777216");
		o->maxlen_max = (uint32_t)v;
		return VD_CLI_RUN;
	case OPT_REALTIME:
		if (parse_unsigned(arg, 1, 99, 0, &v) < 0)
			return usage_error(err, "--realtime: \"%s\" is not a SCHED_FIFO priority "
					   "from 1 to %s", arg, "99");
		o->realtime = (int)v;
		return VD_CLI_RUN;
	case OPT_QUEUE_RCVBUF_MAX:
		if (parse_unsigned(arg, 4096, 1ul << 30, 1, &v) < 0)
			return usage_error(err, "--queue-rcvbuf-max: \"%s\" is not a size from 4K "
					   "to %s", arg, "1G");
		o->queue_rcvbuf_max = (unsigned)v;
		return VD_CLI_RUN;
	default:
		if (parse_interval(arg, &o->stats_interval) < 0)
			return usage_error(err,
					   "--stats-interval: \"%s\" is not a number of seconds %s",
					   arg, "above 0");
		return VD_CLI_RUN;
	}
}

/* --nflog-flags seq,seq-global,conntrack */
static int parse_nflog_flags(const char *arg, uint16_t *flags)
{
	char copy[128], *save = NULL;

	if (strlen(arg) >= sizeof(copy))
		return -1;
	strcpy(copy, arg);
	*flags = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "seq") == 0)
			*flags |= VD_NFLOG_F_SEQ;
		else if (strcmp(t, "seq-global") == 0)
			*flags |= VD_NFLOG_F_SEQ_GLOBAL;
		else if (strcmp(t, "conntrack") == 0)
			*flags |= VD_NFLOG_F_CONNTRACK;
		else
			return -1;
	}
	return 0;
}

/* NFLOG settings. Returns VD_CLI_RUN when handled or an error action. */
static enum vd_cli_action parse_nflog_option(int opt, const char *arg, struct vd_cli_options *o,
					     FILE *err)
{
	unsigned long v;

	switch (opt) {
	case OPT_NFLOG_COPY:
		if (strcmp(arg, "packet") == 0)
			o->nflog_copy = VD_NFLOG_COPY_PACKET;
		else if (strcmp(arg, "meta") == 0)
			o->nflog_copy = VD_NFLOG_COPY_META;
		else if (strcmp(arg, "none") == 0)
			o->nflog_copy = VD_NFLOG_COPY_NONE;
		else
			return usage_error(err, "--nflog-copy: \"%s\" is not %s", arg,
					   "packet, meta or none");
		return VD_CLI_RUN;
	case OPT_NFLOG_RANGE:
		if (parse_unsigned(arg, 1, 65535, 0, &v) < 0)
			return usage_error(err, "--nflog-range: \"%s\" is not a number from 1 to %s",
					   arg, "65535");
		o->nflog_range = (uint32_t)v;
		return VD_CLI_RUN;
	case OPT_NFLOG_THRESHOLD:
		if (parse_unsigned(arg, 1, 1u << 16, 0, &v) < 0)
			return usage_error(err, "--nflog-threshold: \"%s\" is not a number %s", arg,
					   "from 1 to 65536");
		o->nflog_threshold = (uint32_t)v;
		return VD_CLI_RUN;
	case OPT_NFLOG_TIMEOUT:
		if (parse_unsigned(arg, 1, 1u << 20, 0, &v) < 0)
			return usage_error(err, "--nflog-timeout: \"%s\" is not a number of %s", arg,
					   "1/100 s from 1 to 1048576");
		o->nflog_timeout = (uint32_t)v;
		return VD_CLI_RUN;
	case OPT_NFLOG_NLBUFSIZ:
		if (parse_unsigned(arg, 4096, 1u << 20, 1, &v) < 0)
			return usage_error(err, "--nflog-nlbufsiz: \"%s\" is not a size from 4K to %s",
					   arg, "1M");
		o->nflog_nlbufsiz = (uint32_t)v;
		return VD_CLI_RUN;
	case OPT_NFLOG_RCVBUF_MAX:
		if (parse_unsigned(arg, 65536, 1ul << 30, 1, &v) < 0)
			return usage_error(err, "--nflog-rcvbuf-max: \"%s\" is not a size %s", arg,
					   "from 64K to 1G");
		o->nflog_rcvbuf_max = (unsigned)v;
		return VD_CLI_RUN;
	case OPT_NFLOG_FLAGS:
		if (parse_nflog_flags(arg, &o->nflog_flags) < 0)
			return usage_error(err, "--nflog-flags: \"%s\" is not a list of %s", arg,
					   "seq, seq-global, conntrack");
		return VD_CLI_RUN;
	default: /* OPT_LOG_PCAP_LINKTYPE */
		if (strcmp(arg, "raw") != 0 && strcmp(arg, "nflog") != 0)
			return usage_error(err, "--log-pcap-linktype: \"%s\" is not %s", arg,
					   "nflog or raw");
		o->pcap_raw = strcmp(arg, "raw") == 0;
		return VD_CLI_RUN;
	}
}

static enum vd_cli_action parse_option(int opt, const char *arg, struct vd_cli_options *o,
				       FILE *out, FILE *err)
{
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);

	switch (opt) {
	case 'q':
		return parse_list(err, "--queue", arg, 65535, o->queues, VD_CLI_MAX_QUEUES,
				  &o->nqueues);
	case 'd':
		if (vd_verdict_parse(arg, &o->default_verdict) < 0 ||
		    (o->default_verdict.kind != VD_VERDICT_ACCEPT &&
		     o->default_verdict.kind != VD_VERDICT_DROP))
			return usage_error(err, "--default: \"%s\" is not a verdict %s", arg,
					   "(accept or drop)");
		return VD_CLI_RUN;
	case OPT_FAIL_OPEN:
		o->queue_flags |= VD_QUEUE_F_FAIL_OPEN;
		return VD_CLI_RUN;
	case OPT_GSO: /* the default now; still accepted */
		o->queue_flags |= VD_QUEUE_F_GSO;
		return VD_CLI_RUN;
	case OPT_NO_GSO:
		o->queue_flags &= ~(uint32_t)VD_QUEUE_F_GSO;
		return VD_CLI_RUN;
	case OPT_SECCTX:
		o->queue_flags |= VD_QUEUE_F_SECCTX;
		return VD_CLI_RUN;
	case OPT_CONNTRACK:
		o->queue_flags |= VD_QUEUE_F_CONNTRACK;
		return VD_CLI_RUN;
	case OPT_NO_CONNTRACK:
		o->queue_flags &= ~(uint32_t)VD_QUEUE_F_CONNTRACK;
		o->optional_flags &= ~(uint32_t)VD_QUEUE_F_CONNTRACK;
		return VD_CLI_RUN;
	case OPT_NO_UID_GID:
		o->queue_flags &= ~(uint32_t)VD_QUEUE_F_UID_GID;
		o->optional_flags &= ~(uint32_t)VD_QUEUE_F_UID_GID;
		return VD_CLI_RUN;
	case OPT_CPUS:
		return parse_list(err, "--cpus", arg, ncpus > 0 ? (unsigned)ncpus - 1 : 0, o->cpus,
				  VD_CLI_MAX_CPUS, &o->ncpus);
	case 'r':
		o->rules = arg;
		return VD_CLI_RUN;
	case OPT_CHECK:
		o->check = arg;
		return VD_CLI_RUN;
	case OPT_CONTROL:
		o->control = strcmp(arg, "none") == 0 ? NULL : arg;
		o->control_set = 1;
		return VD_CLI_RUN;
	case OPT_CONTROL_GROUP:
		o->control_group = arg;
		return VD_CLI_RUN;
	case OPT_PLUGIN_PATH:
		o->plugin_path = arg;
		return VD_CLI_RUN;
	case 'v':
		o->verbose++;
		return VD_CLI_RUN;
	case OPT_NFLOG:
		return parse_list(err, "--nflog", arg, 65535, o->groups, VD_CLI_MAX_QUEUES,
				  &o->ngroups);
	case OPT_NETNS:
		o->netns = arg;
		return VD_CLI_RUN;
	case OPT_LOG_JSON:
		o->log_json = arg;
		return VD_CLI_RUN;
	case OPT_LOG_PCAP:
		o->log_pcap = arg;
		return VD_CLI_RUN;
	case OPT_REPLAY:
		o->replay = arg;
		return VD_CLI_RUN;
	case OPT_WRITE_PCAP:
		o->write_pcap = arg;
		return VD_CLI_RUN;
	case OPT_METRICS_FILE:
		o->metrics_file = arg;
		return VD_CLI_RUN;
	case OPT_USER:
		o->user = arg;
		return VD_CLI_RUN;
	case OPT_GROUP:
		o->group = arg;
		return VD_CLI_RUN;
	case OPT_NO_SECCOMP:
		o->no_seccomp = 1;
		return VD_CLI_RUN;
	case 'h':
		vd_cli_print_help(out);
		return VD_CLI_EXIT_OK;
	case 'V':
		fprintf(out, "verdictd %s (libverdict %s)\n", VD_VERSION_STRING, vd_version());
		return VD_CLI_EXIT_OK;
	case OPT_NFLOG_COPY:
	case OPT_NFLOG_RANGE:
	case OPT_NFLOG_THRESHOLD:
	case OPT_NFLOG_TIMEOUT:
	case OPT_NFLOG_NLBUFSIZ:
	case OPT_NFLOG_FLAGS:
	case OPT_NFLOG_RCVBUF_MAX:
	case OPT_LOG_PCAP_LINKTYPE:
		return parse_nflog_option(opt, arg, o, err);
	case VD_CLI_OPT_FIREWALL ... VD_CLI_OPT_FIREWALL_END - 1:
		return vd_cli_firewall_option(opt, arg, o, err);
	default:
		return parse_number_option(opt, arg, o, err);
	}
}

enum vd_cli_action vd_cli_parse(int argc, char **argv, struct vd_cli_options *o, FILE *out,
				FILE *err)
{
	enum vd_cli_action action = VD_CLI_RUN;
	int opt;

	options_init(o);
	optind = 0; /* glibc: 0 re-initialises getopt for a fresh parse */
	opterr = 0; /* our own messages, one line each */
	while (action == VD_CLI_RUN &&
	       (opt = getopt_long(argc, argv, ":q:r:d:vhV", long_options, NULL)) != -1) {
		char shortopt[3] = { '-', (char)optopt, '\0' };
		/* getopt names a bad short option in optopt, a long one not at all. */
		const char *bad = optopt ? shortopt : argv[optind - 1];

		if (opt == '?')
			return usage_error(err, "unknown option \"%s\"%s", bad, "");
		if (opt == ':')
			return usage_error(err, "option \"%s\" needs a value%s", argv[optind - 1], "");
		action = parse_option(opt, optarg, o, out, err);
	}
	if (action != VD_CLI_RUN)
		return action;
	if (optind < argc)
		return usage_error(err, "unexpected argument \"%s\"%s", argv[optind], "");
	if (o->write_pcap && !o->replay)
		return usage_error(err, "--write-pcap %s: works with --replay FILE only (live "
				   "packets go back to the kernel; --log-pcap records them)%s",
				   o->write_pcap, "");
	if (o->write_pcap && o->log_pcap && strcmp(o->write_pcap, o->log_pcap) == 0)
		return usage_error(err, "--write-pcap %s: also given to --log-pcap: write them to "
				   "two files%s", o->write_pcap, "");
	if (o->group && !o->user)
		return usage_error(err, "--group %s: works with --user USER only%s", o->group, "");
	if (o->check)
		return VD_CLI_RUN;
	if (o->replay) {
		if (!o->rules)
			return usage_error(err, "--replay needs --rules FILE%s%s", "", "");
		if (o->nqueues || o->ngroups)
			return usage_error(err, "--replay works offline: no --queue or --nflog%s%s", "",
					   "");
		return VD_CLI_RUN;
	}
	if (o->nqueues == 0 && o->ngroups == 0 && !o->print_firewall)
		return usage_error(err, "--queue or --nflog is required%s%s", "", "");
	if (o->realtime && o->nqueues == 0 && !o->print_firewall)
		return usage_error(err, "--realtime: applies to queue workers only (NFLOG group "
				   "workers keep their policy): give --queue%s%s", "", "");
	if (vd_cli_firewall_finish(o, err) != VD_CLI_RUN)
		return VD_CLI_EXIT_USAGE;
	if (!o->control_set && o->rules)
		o->control = VD_CONTROL_DEFAULT_PATH;
	if (o->control_group && !o->control)
		return usage_error(err, "--control-group %s: there is no control socket (give "
				   "--rules, or --control PATH)%s", o->control_group, "");
	if (o->control_group && !*o->control_group)
		return usage_error(err, "--control-group: an empty group name%s%s", "", "");
	return VD_CLI_RUN;
}
