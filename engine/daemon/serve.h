/*
 * serve.h - verdictd's main loop, and the daemon state it shares with
 * main.c (which builds it and tears it down).
 *
 * The loop runs on the main thread and never blocks on anything a client or
 * a rules file controls: signals, the reload thread's end, the control
 * socket and the statistics timer are polled together.
 */
#ifndef VD_SERVE_H
#define VD_SERVE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include <verdict/libverdict.h>
#include <verdict/rules.h>

#include "cli.h"
#include "control.h"
#include "firewall_install.h"
#include "firewall_offload.h"
#include "kernel_watch.h"
#include "log_sink.h"
#include "log_workers.h"
#include "metrics_table.h"
#include "reloader.h"

struct daemon {
	struct vd_cli_options *opts;
	struct vd_engine *engine;   /* NULL without --queue and --nflog */
	struct vd_log_workers_context logs; /* what the group workers share */
	struct vd_log_sink *sink;   /* NULL without --log-json / --log-pcap */
	struct vd_rules *rules;   /* NULL: every packet gets opts->default_verdict */
	struct vd_control *control; /* NULL: no control socket */
	gid_t control_group;      /* --control-group, or (gid_t)-1 */
	struct vd_reloader *reloader; /* with rules */
	struct vd_firewall firewall; /* --firewall: the kernel rules installed */
	struct vd_firewall_offload offload; /* --firewall with rules: what runs in the
					     * kernel; .rules NULL otherwise */
	bool reload_client;       /* a control client waits for the running reload */
	bool reload_again;        /* SIGHUP during a reload: load once more after it */
	struct vd_daemon_counters counters; /* the main thread's own */
	bool metrics_failing;     /* the last --metrics-file rewrite failed */
	struct vd_kernel_watch *watch; /* per queue worker: the kernel's drops */
	struct vd_kernel_watch_config watch_cfg;
	int sigfd;
	bool stop;
};

/* Serves signals, reloads, control commands and the statistics timer until
 * SIGINT or SIGTERM (or a dead worker). */
void vd_daemon_serve(struct daemon *d);

/* Queue, group, output and rule counters as stats lines on stdout. */
void vd_daemon_report(struct daemon *d, const char *label);

#endif
