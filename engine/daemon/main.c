/*
 * main.c - the verdictd daemon: options in, an engine over the queues, a rule
 * table (or one default verdict) deciding, the main loop (serve.c) serving
 * signals and control commands, statistics out.
 *
 * Thin by design: packet work lives in libverdict. The main thread owns
 * everything that is not a worker's: the control socket, signals, printing,
 * and starting reloads, which load on a thread of their own (reloader.h) so
 * that nothing a rules file does can hold the main loop.
 */
#define _GNU_SOURCE /* setns */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <verdict/kernel_mark.h>
#include <verdict/libverdict.h>
#include <verdict/rules.h>

#include "cli.h"
#include "engine_setup.h"
#include "firewall_options.h"
#include "kernel_watch.h"
#include "internal.h"
#include "privilege_drop.h"
#include "replay.h"
#include "seccomp_filter.h"
#include "serve.h"
#include "service_notify.h"
#include "stats_report.h"

/* How long the exit waits for a cancelled reload before leaving it behind. */
#define RELOAD_ABANDON_MS 300


/* The library's lines and the daemon's own, one per line on stderr. */
static void log_to_stderr(enum vd_log_level level, const char *message, void *user)
{
	(void)user;
	fprintf(stderr, "verdictd: %s: %s\n", vd_log_level_name(level), message);
}


static void describe(const struct vd_cli_options *o)
{
	char list[256], groups[256];
	size_t off = 0, goff = 0;

	for (size_t i = 0; i < o->nqueues && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%u", i ? "," : "",
					o->queues[i]);
	for (size_t i = 0; i < o->ngroups && goff < sizeof(groups); i++)
		goff += (size_t)snprintf(groups + goff, sizeof(groups) - goff, "%s%u", i ? "," : "",
					 o->groups[i]);
	if (o->nqueues && o->rules)
		vd_log(VD_LOG_INFO, "ready: %zu worker%s on queue%s %s, rules %s", o->nqueues,
		       o->nqueues == 1 ? "" : "s", o->nqueues == 1 ? "" : "s", list, o->rules);
	else if (o->nqueues)
		vd_log(VD_LOG_INFO, "ready: %zu worker%s on queue%s %s, default verdict %s",
		       o->nqueues, o->nqueues == 1 ? "" : "s", o->nqueues == 1 ? "" : "s", list,
		       vd_verdict_kind_name(o->default_verdict.kind));
	if (o->ngroups)
		vd_log(VD_LOG_INFO, "ready: %zu log worker%s on nflog group%s %s", o->ngroups,
		       o->ngroups == 1 ? "" : "s", o->ngroups == 1 ? "" : "s", groups);
}

/* Every queue and group is bound and the rules loaded: systemd may start
 * what comes after verdictd. */
static void notify_ready(const struct vd_cli_options *o)
{
	char status[256];

	snprintf(status, sizeof(status), "serving %zu queue%s and %zu log group%s, %s%s", o->nqueues,
		 o->nqueues == 1 ? "" : "s", o->ngroups, o->ngroups == 1 ? "" : "s",
		 o->rules ? "rules " : "default verdict ",
		 o->rules ? o->rules : vd_verdict_kind_name(o->default_verdict.kind));
	vd_service_ready(status);
}

/* Where plugins are looked for after the rules file's directory: the
 * user's --plugin-path; then, for a binary run from its build tree, the
 * build directory and its rules/plugins (so that rules/example.lua's
 * "rules/plugins/synguard.so" runs as it is); otherwise the installed plugin
 * directory, first relative to the binary (an install moved with "cmake
 * --install --prefix"), then where it was configured. Build-tree folders
 * are never searched by an installed binary. */
static void plugin_path_complete(struct vd_cli_options *o)
{
	static char path[4 * 4096 + 64];
	char exe[4096], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *user = o->plugin_path ? o->plugin_path : "";
	const char *sep = o->plugin_path ? ":" : "";

	if (n <= 0)
		return;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	if (strncmp(exe, VD_BUILD_DIR "/", strlen(VD_BUILD_DIR) + 1) == 0)
		snprintf(path, sizeof(path), "%s%s%s:%s/rules/plugins", user, sep, VD_BUILD_DIR,
			 VD_BUILD_DIR);
	else
		snprintf(path, sizeof(path), "%s%s%s/%s:%s", user, sep, exe,
			 VD_PLUGIN_DIR_FROM_BINDIR, VD_PLUGIN_INSTALL_DIR);
	o->plugin_path = path;
}

/* --check's line for a table that delays: the kernel queue length verdictd
 * will ask for with these options, so that users see what holding costs. */
static void check_queue_length(const struct vd_cli_options *o, struct vd_rules *rules)
{
	uint32_t need = (uint32_t)vd_daemon_hold_max(o) + VD_TUNING_HOLD_HEADROOM;

	if (!vd_rules_delays(rules))
		return;
	if (o->maxlen)
		printf("queue length: %u (--maxlen, %s the %u held packets may need: --hold-max "
		       "%u + %u)\n", o->maxlen, o->maxlen < need ? "below" : "at least", need,
		       vd_daemon_hold_max(o), VD_TUNING_HOLD_HEADROOM);
	else
		printf("queue length: %u (the rules delay: at least --hold-max %u + %u headroom)\n",
		       vd_daemon_queue_maxlen(o, true), vd_daemon_hold_max(o), VD_TUNING_HOLD_HEADROOM);
}

/* --check loads under the Lua limits the daemon would: the file that passes
 * must be the file that starts. */
static void check_lua_limits(struct vd_rules_config *cfg, const struct vd_cli_options *o)
{
	cfg->lua_memory = o->lua_memory;
	cfg->lua_instructions = o->lua_instructions;
	cfg->lua_call_ms = o->lua_call_ms;
	cfg->lua_load_instructions = o->lua_load_instructions;
	cfg->lua_load_ms = o->lua_load_ms;
}

/* The kernel offload's lines for --check, one per hook (--hooks, else
 * input): which leading rules --firewall would put in the kernel, and why
 * the next one stays. */
static int check_offload(const struct vd_cli_options *o, char *errbuf)
{
	struct vd_rules_config cfg = { .path = o->check, .plugin_path = o->plugin_path,
				       .kernel_mark_mask = o->kernel_mark_mask };
	struct vd_firewall_offload off;
	struct vd_rules *rules;
	unsigned hooks = o->hooks ? o->hooks : VD_FW_HOOK_INPUT;

	check_lua_limits(&cfg, o);
	if (!(rules = vd_rules_open(&cfg, errbuf)))
		return -1;
	vd_firewall_offload_init(&off);
	vd_firewall_offload_from(o, rules, &off);
	for (unsigned h = 0; h < VD_FW_HOOK_COUNT; h++)
		if (hooks & (1u << h)) /* enum vd_firewall_hook bit h is vd_offload_hook h */
			vd_firewall_offload_check(&off, (enum vd_offload_hook)h, stdout);
	vd_firewall_offload_fini(&off);
	check_queue_length(o, rules);
	vd_rules_close(rules);
	return 0;
}

static int check_only(const struct vd_cli_options *o)
{
	char errbuf[VD_ERRBUF_SIZE];
	/* --check returns before vd_cli_firewall_finish: --firewall's default
	 * field is set here, so that the summary knows the kernel rules run
	 * (--firewall, or --bypass-mark for a loaded --print-firewall set). */
	struct vd_rules_config cfg = { .path = o->check, .plugin_path = o->plugin_path,
				       .kernel_mark_mask = o->kernel_mark_mask ? o->kernel_mark_mask
						 : o->firewall ? VD_KMARK_DEFAULT_MASK : 0 };

	check_lua_limits(&cfg, o);
	if (vd_rules_check_config(&cfg, stdout, errbuf) < 0 || check_offload(o, errbuf) < 0) {
		fprintf(stderr, "verdictd: %s\n", errbuf);
		return 2;
	}
	return 0;
}

/* -1 when the system failed (no memory); -2 when the file is missing or does
 * not load: the user's to fix, exit status 2. */
static int open_rules(struct daemon *d, const uint16_t *queues, const uint16_t *groups)
{
	struct vd_cli_options *o = d->opts;
	char errbuf[VD_ERRBUF_SIZE];
	struct vd_rules_config cfg = {
		.path = o->rules,
		.nworkers = (unsigned)o->nqueues,
		.queues = queues,
		.lua_memory = o->lua_memory,
		.lua_instructions = o->lua_instructions,
		.lua_call_ms = o->lua_call_ms,
		.lua_load_instructions = o->lua_load_instructions,
		.lua_load_ms = o->lua_load_ms,
		.plugin_path = o->plugin_path,
		.nlog_workers = (unsigned)o->ngroups,
		.log_groups = groups,
		.kernel_mark_mask = o->kernel_mark_mask,
		.hold_max = vd_daemon_hold_max(o),
	};

	d->rules = vd_rules_open(&cfg, errbuf);
	if (!d->rules) {
		int why = errno; /* before fprintf can change it */

		fprintf(stderr, "verdictd: %s\n", errbuf);
		return why == ENOMEM ? -1 : -2;
	}
	return 0;
}

/* Takes SIGINT, SIGTERM and SIGHUP through a signalfd: blocked here before
 * any thread starts, so every thread inherits the block. */
static int signals_open(void)
{
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &sigs, SFD_CLOEXEC);
}

/* Returns false when a cancelled reload did not end in time: it still uses
 * the rules, which are then left to the process's exit. */
static bool shutdown_daemon(struct daemon *d, int *status)
{
	/* The cancellation runs while the workers stop. */
	char errbuf[VD_ERRBUF_SIZE];

	if (d->reloader && vd_reloader_running(d->reloader))
		vd_rules_reload_cancel(d->rules);
	/* Rules out first: packets stop being queued while workers still
	 * answer the ones in the queue. */
	/* The offloaded rules' counts go with them: kept for the final report. */
	if (d->offload.rules)
		vd_firewall_offload_prepare(&d->offload);
	if (vd_firewall_remove(&d->firewall, errbuf, sizeof(errbuf)) < 0) {
		vd_log(VD_LOG_ERROR, "removing the kernel rules: %s", errbuf);
		*status = 1;
		if (d->offload.rules)
			vd_firewall_offload_commit(&d->offload, false);
	} else if (d->offload.rules) {
		vd_firewall_offload_commit(&d->offload, true);
	}
	if (d->engine)
		vd_engine_stop(d->engine);
	if (d->engine && vd_engine_wait(d->engine) < 0)
		*status = 1;
	vd_daemon_report(d, "final");
	vd_engine_destroy(d->engine);
	free(d->watch);
	vd_log_sink_close(d->sink);
	vd_control_close(d->control);
	if (d->reloader && !vd_reloader_stop(d->reloader, RELOAD_ABANDON_MS)) {
		vd_log(VD_LOG_WARN, "the reload in progress did not stop when cancelled: "
		       "exiting without it");
		return false;
	}
	vd_reloader_free(d->reloader);
	vd_firewall_offload_fini(&d->offload);
	vd_rules_close(d->rules);
	return true;
}

/* --netns NAME|PATH: the whole daemon moves before it opens any socket or
 * starts any thread, so every queue and group binds in that namespace. */
static int enter_netns(const char *ns)
{
	char path[512];
	int fd;

	if (strchr(ns, '/'))
		snprintf(path, sizeof(path), "%s", ns);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "verdictd: --netns %s: cannot open %s: %s\n", ns, path,
			strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "verdictd: --netns %s: cannot enter it: %s%s\n", ns, strerror(errno),
			errno == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The control socket. A path that is not a socket is the user's mistake
 * (-2: exit status 2) and stays untouched; any other failure leaves the
 * daemon without one, as SIGHUP still reloads. */
static int open_control(struct daemon *d, char *errbuf, size_t errlen)
{
	struct vd_control_config cfg = { .path = d->opts->control, .group = d->control_group };

	d->control = vd_control_open(&cfg, errbuf, errlen);
	if (!d->control && errno == ENOTSOCK)
		return -2;
	if (!d->control)
		vd_log(VD_LOG_WARN, "%s; verdictctl will not reach this daemon (SIGHUP still "
		       "reloads)", errbuf);
	return 0;
}

/* Once everything that needs root is open (queues and groups bound, outputs,
 * control socket, rules loaded) and before any thread starts: --realtime's
 * limit, --user, then the seccomp filter. The control socket file goes to the user, who may then
 * use it as root may; the daemon keeps its listening descriptor. */
static int lock_down(struct daemon *d, const struct vd_privilege_target *t, char *errbuf)
{
	const char *control = d->control ? d->opts->control : NULL;

	if (t->set && control &&
	    fchownat(AT_FDCWD, control, t->uid, (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(errbuf, VD_ERRBUF_SIZE, "control socket %s: giving it to --user %s: %s",
			 control, t->name, strerror(errno));
		return -1;
	}
	/* While root (or what started it) may still raise the limit. */
	if (d->opts->realtime &&
	    vd_privilege_realtime_allow(d->opts->realtime, !t->set, errbuf, VD_ERRBUF_SIZE) < 0)
		return -1;
	if (t->set && vd_privilege_drop(t, errbuf, VD_ERRBUF_SIZE) < 0)
		return -1;
	if (!t->set && vd_privilege_trim(errbuf, VD_ERRBUF_SIZE) < 0)
		vd_log(VD_LOG_WARN, "%s", errbuf);
	if (d->opts->no_seccomp)
		return 0;
	/* Else the filter kills the first iptables-restore (SIGSYS): say so
	 * before anything is installed. */
	if (d->opts->firewall && d->opts->firewall != VD_FW_FLAVOUR_NFT &&
	    vd_firewall_backend_legacy()) {
		snprintf(errbuf, VD_ERRBUF_SIZE, "--firewall: iptables (iptables %s, ip6tables %s) "
			 "is the legacy backend, whose tools need raw IP sockets the seccomp "
			 "allow-list refuses: point iptables at iptables-nft (update-alternatives), "
			 "or give --no-seccomp", vd_firewall_backend(AF_INET),
			 vd_firewall_backend(AF_INET6));
		return -1;
	}
	if (vd_seccomp_filter_install(d->opts->realtime > 0, errbuf, VD_ERRBUF_SIZE) < 0)
		return -1;
	vd_log(VD_LOG_DEBUG, "seccomp: the system call allow-list is on");
	return 0;
}

/* --firewall, once the queues are bound: the generated rules into the
 * kernel. -1 with errbuf (VD_ERRBUF_SIZE bytes) filled. */
static int firewall_start(struct daemon *d, char *errbuf)
{
	char why[VD_ERRBUF_SIZE - 64];
	int flavour = vd_firewall_flavour_resolve(d->opts->firewall, errbuf, VD_ERRBUF_SIZE);

	if (flavour < 0)
		return -1;
	d->firewall.flavour = (enum vd_firewall_flavour)flavour;
	if (d->rules)
		vd_firewall_offload_from(d->opts, d->rules, &d->offload);
	if (vd_firewall_apply(&d->firewall, d->opts, d->rules, d->offload.rules ? &d->offload : NULL,
			      why, sizeof(why)) < 0) {
		snprintf(errbuf, VD_ERRBUF_SIZE, "--firewall: cannot install the kernel rules: %s",
			 why);
		return -1;
	}
	return 0;
}

/* The kernel drop watch over every queue (kernel_watch.h) and its limits. */
static int watch_start(struct daemon *d, char *errbuf)
{
	const struct vd_cli_options *o = d->opts;
	uint32_t held_room = vd_daemon_hold_max(o) + VD_TUNING_HOLD_HEADROOM;

	if (!(d->watch = calloc(o->nqueues + 1, sizeof(*d->watch)))) {
		snprintf(errbuf, VD_ERRBUF_SIZE, "out of memory for the queues' drop counters");
		return -1;
	}
	d->watch_cfg = (struct vd_kernel_watch_config){
		.fail_open = o->queue_flags & VD_QUEUE_F_FAIL_OPEN,
		.maxlen_max = o->maxlen_max ? o->maxlen_max : VD_TUNING_DEFAULT_MAXLEN_MAX,
		.rcvbuf_max = o->queue_rcvbuf_max ? o->queue_rcvbuf_max
						  : VD_TUNING_DEFAULT_RCVBUF_MAX,
	};
	/* The default limit never stops a queue sized for held packets. */
	if (!o->maxlen_max && d->watch_cfg.maxlen_max < held_room)
		d->watch_cfg.maxlen_max = held_room;
	return 0;
}

/* A rules file's first_packets is carried out by the generated rules only. */
static void first_packets_warn(const struct daemon *d)
{
	unsigned n = d->rules ? vd_rules_first_packets(d->rules) : 0;

	if (n && !d->opts->firewall)
		vd_log(VD_LOG_WARN, "%s: first_packets = %u is carried out by the generated "
		       "kernel rules only: give --firewall, or load the --print-firewall output",
		       d->opts->rules, n);
}

/* Reject and bypass are carried out by the generated rules only: without
 * their mark field (no --firewall, no --bypass-mark) a reject is sent as a
 * drop and bypass decides the one packet. Said once, at start. */
static void kernel_verdicts_warn(const struct daemon *d)
{
	if (d->rules && !d->opts->kernel_mark_mask && vd_rules_kernel_verdicts(d->rules))
		vd_log(VD_LOG_WARN, "%s: reject and bypass are carried out by the generated kernel "
		       "rules only: give --firewall, or load the --print-firewall output and give "
		       "--bypass-mark; until then a reject is sent as drop and bypass decides only "
		       "the packet itself", d->opts->rules);
}

/* Starts what the options ask for; -1 or -2 (what was given is wrong) with
 * the error printed. */
static int start(struct daemon *d, const struct vd_privilege_target *t, const uint16_t *queues,
		 const uint16_t *groups)
{
	struct vd_cli_options *o = d->opts;
	char errbuf[VD_ERRBUF_SIZE];
	int rc = -1;

	if (o->rules && (rc = open_rules(d, queues, groups)) < 0)
		return rc;
	if (d->rules) /* the start-up load counts as the last one */
		d->counters = (struct vd_daemon_counters){ .last_reload_success = 1,
							   .last_reload_time_seconds = (uint64_t)time(NULL) };
	rc = -1;
	if (d->rules && !(d->reloader = vd_reloader_new(d->rules))) {
		snprintf(errbuf, sizeof(errbuf), "cannot make the reload thread's eventfd: %s",
			 strerror(errno));
		goto fail;
	}
	if (o->log_json || o->log_pcap) {
		d->sink = vd_log_sink_open(o->log_json, o->log_pcap,
					   o->pcap_raw ? VD_PCAP_RAW : VD_PCAP_NFLOG, errbuf,
					   sizeof(errbuf));
		if (!d->sink)
			goto fail;
	}
	if (o->control && (rc = open_control(d, errbuf, sizeof(errbuf))) < 0)
		goto fail;
	rc = -1;
	d->logs = (struct vd_log_workers_context){ .rules = d->rules, .sink = d->sink };
	d->engine = vd_daemon_engine_create(d, queues, groups, errbuf);
	if (!d->engine || lock_down(d, t, errbuf) < 0 || vd_engine_start(d->engine, errbuf) < 0)
		goto fail;
	if (watch_start(d, errbuf) < 0)
		goto fail;
	if (o->firewall && firewall_start(d, errbuf) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "verdictd: %s\n", errbuf);
	if (d->engine) {
		vd_engine_stop(d->engine);
		vd_engine_wait(d->engine);
	}
	vd_engine_destroy(d->engine);
	d->engine = NULL;
	free(d->watch);
	d->watch = NULL;
	vd_log_sink_close(d->sink);
	vd_control_close(d->control);
	vd_reloader_free(d->reloader);
	vd_rules_close(d->rules);
	return rc;
}

/* --control-group NAME|GID into d->control_group; -1 with the error printed. */
static int resolve_control_group(struct daemon *d)
{
	const char *name = d->opts->control_group;
	const struct group *g;
	char *end;
	unsigned long gid;

	d->control_group = (gid_t)-1;
	if (!name)
		return 0;
	errno = 0;
	gid = strtoul(name, &end, 10);
	if (*name >= '0' && *name <= '9' && !*end && !errno && gid < (gid_t)-1) {
		d->control_group = (gid_t)gid;
		return 0;
	}
	g = getgrnam(name);
	if (!g) {
		fprintf(stderr, "verdictd: --control-group: no group \"%s\" (a name from "
			"/etc/group or a number) (see verdictd --help)\n", name);
		return -1;
	}
	d->control_group = g->gr_gid;
	return 0;
}

int main(int argc, char **argv)
{
	static struct vd_cli_options opts;
	struct daemon d = { .opts = &opts };
	struct vd_privilege_target target;
	char errbuf[VD_ERRBUF_SIZE];
	bool clean;
	uint16_t queues[VD_CLI_MAX_QUEUES], groups[VD_CLI_MAX_QUEUES];
	int status = 0;

	vd_log_set_handler(log_to_stderr, NULL);
	switch (vd_cli_parse(argc, argv, &opts, stdout, stderr)) {
	case VD_CLI_EXIT_OK:
		return 0;
	case VD_CLI_EXIT_USAGE:
		return 2;
	case VD_CLI_RUN:
		break;
	}
	if (opts.verbose)
		vd_log_set_level(VD_LOG_DEBUG);
	plugin_path_complete(&opts);
	if (opts.check)
		return check_only(&opts);
	if (opts.replay)
		return vd_replay_run(&opts, stdout);
	if (opts.print_firewall)
		return vd_firewall_print(&opts, stdout);
	vd_firewall_offload_init(&d.offload); /* used with --firewall and rules */
	if (resolve_control_group(&d) < 0)
		return 2;
	if (vd_privilege_target_resolve(opts.user, opts.group, &target, errbuf,
					sizeof(errbuf)) < 0) {
		fprintf(stderr, "verdictd: %s (see verdictd --help)\n", errbuf);
		return 2;
	}
	if (opts.netns && enter_netns(opts.netns) < 0)
		return 1;
	d.sigfd = signals_open();
	if (d.sigfd < 0) {
		fprintf(stderr, "verdictd: cannot take signals: %s\n", strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < opts.nqueues; i++)
		queues[i] = (uint16_t)opts.queues[i];
	for (size_t i = 0; i < opts.ngroups; i++)
		groups[i] = (uint16_t)opts.groups[i];
	status = start(&d, &target, queues, groups);
	if (status < 0)
		return status == -2 ? 2 : 1; /* 2: what was given; 1: the system */
	describe(&opts);
	first_packets_warn(&d);
	kernel_verdicts_warn(&d);
	notify_ready(&opts);
	vd_daemon_serve(&d);
	vd_service_stopping();
	clean = shutdown_daemon(&d, &status);
	if (!clean) {
		/* A reload thread still runs: exit now, without the exit handlers
		 * that could tear down what it uses. */
		fflush(stdout);
		fflush(stderr);
		_exit(status);
	}
	return status;
}
