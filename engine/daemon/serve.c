/*
 * serve.c - verdictd's main loop (serve.h): signals, reloads handed to the
 * reload thread and answered when it ends, control commands, statistics.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "firewall_options.h"
#include "internal.h"
#include "metrics.h"
#include "metrics_file.h"
#include "serve.h"
#include "service_notify.h"
#include "stats_report.h"

/* Re-check for a failed worker at least this often. */
#define POLL_INTERVAL_MS 200

/* Every row, read now, offloaded rules' kernel hits added to theirs; -1 on
 * no memory. */
static int daemon_snapshot(struct daemon *d, struct vd_stats_snapshot *snap)
{
	if (vd_stats_snapshot_take(snap, d->engine, d->sink, d->rules, &d->counters) < 0)
		return -1;
	if (d->offload.rules) {
		vd_firewall_offload_add_hits(&d->offload, snap->rules, snap->nrules);
		snap->daemon.offload_counter_errors = vd_firewall_offload_read_errors(&d->offload);
	}
	/* The kernel watch's fail-open estimate, the daemon's own (kernel_watch.h). */
	for (size_t i = 0; d->watch && i < snap->nqueues; i++)
		snap->queues[i].fail_open = d->watch[i].fail_open;
	return 0;
}

/* Rewrites --metrics-file. A failure is counted each time and logged once
 * until a rewrite succeeds again: a full disk must not flood the log. */
static void metrics_file_update(struct daemon *d)
{
	char err[VD_ERRBUF_SIZE];
	struct vd_stats_snapshot snap;
	int rc = -1;

	if (daemon_snapshot(d, &snap) == 0)
		rc = vd_metrics_file_write(d->opts->metrics_file, &snap, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "--metrics-file %s: out of memory", d->opts->metrics_file);
	vd_stats_snapshot_free(&snap);
	if (rc == 0 && d->metrics_failing)
		vd_log(VD_LOG_INFO, "--metrics-file %s: written again", d->opts->metrics_file);
	else if (rc < 0 && !d->metrics_failing)
		vd_log(VD_LOG_ERROR, "%s (counted in verdictd_metrics_file_errors_total; logged "
		       "again only after a rewrite succeeds)", err);
	d->metrics_failing = rc < 0;
	d->counters.metrics_file_errors += rc < 0;
}

/* A reload thread ended: log the outcome, answer the client that asked,
 * start the reload a SIGHUP asked for meanwhile. */
static void reload_finished(struct daemon *d)
{
	char errbuf[VD_ERRBUF_SIZE], answer[VD_ERRBUF_SIZE + 64];
	unsigned gen;

	int rc = vd_reloader_finish(d->reloader, errbuf);

	d->counters.last_reload_success = rc == 0;
	d->counters.last_reload_time_seconds = (uint64_t)time(NULL);
	if (rc < 0) {
		d->counters.reload_errors++;
		vd_log(VD_LOG_ERROR, "reload refused, the old rules stay: %s", errbuf);
		snprintf(answer, sizeof(answer), "error: %s (the old rules stay)\n", errbuf);
	} else {
		d->counters.reloads++;
		gen = vd_rules_generation(d->rules);
		vd_log(VD_LOG_INFO, "reloaded %s (generation %u)", d->opts->rules, gen);
		snprintf(answer, sizeof(answer), "ok: reloaded %s (generation %u)\n",
			 d->opts->rules, gen);
		/* The new table may change the generated rules (first_packets, the
		 * offloaded rules). */
		if (d->firewall.installed &&
		    vd_firewall_apply(&d->firewall, d->opts, d->rules,
				      d->offload.rules ? &d->offload : NULL, errbuf, sizeof(errbuf)) < 0)
			vd_log(VD_LOG_ERROR, "reload: the kernel rules stay as they were: %s",
			       errbuf);
	}
	/* Ready again either way: a refused reload leaves the old rules serving. */
	vd_service_ready(answer);
	if (d->reload_client && d->control)
		vd_control_answer(d->control, answer);
	d->reload_client = false;
	if (d->reload_again) {
		d->reload_again = false;
		if (vd_reloader_start(d->reloader) < 0)
			vd_log(VD_LOG_ERROR, "SIGHUP: cannot start a reload: %s", strerror(errno));
		else
			vd_service_reloading();
	}
}

/* `verdictctl reload`: answered when the load ends (reload_finished). A
 * second one while a reload runs is refused rather than queued: its client
 * would otherwise wait for two loads, and the first one's answer says
 * whether the file as it is now loaded. */
static int reload_request(struct daemon *d, FILE *reply)
{
	if (!d->rules) {
		fprintf(reply, "error: no rules file in use (start verdictd with --rules FILE)\n");
		return 0;
	}
	if (vd_reloader_running(d->reloader)) {
		fprintf(reply, "error: a reload is already running (try again when it ends)\n");
		return 0;
	}
	if (vd_reloader_start(d->reloader) < 0) {
		fprintf(reply, "error: cannot start a reload: %s\n", strerror(errno));
		return 0;
	}
	d->reload_client = true;
	vd_service_reloading();
	return VD_CONTROL_DEFERRED;
}

/* The stats in the format cmd asks for. The answer is the lines (or the
 * object) alone, no "ok" before them: it parses as it is. The client tells
 * success by the absence of "error:". */
static void stats_request(struct daemon *d, enum vd_control_command cmd, FILE *reply)
{
	struct vd_stats_snapshot snap;

	if (daemon_snapshot(d, &snap) < 0) {
		fprintf(reply, "error: out of memory\n");
		return;
	}
	if (cmd == VD_CONTROL_STATS_JSON)
		vd_metrics_json(reply, &snap);
	else if (cmd == VD_CONTROL_METRICS)
		vd_metrics_prometheus(reply, &snap);
	else
		vd_stats_text(reply, &snap, NULL);
	vd_stats_snapshot_free(&snap);
}

static int control_handler(enum vd_control_command cmd, FILE *reply, void *data)
{
	struct daemon *d = data;

	switch (cmd) {
	case VD_CONTROL_RELOAD:
		return reload_request(d, reply);
	case VD_CONTROL_STATS:
	case VD_CONTROL_STATS_JSON:
	case VD_CONTROL_METRICS:
		stats_request(d, cmd, reply);
		return 0;
	case VD_CONTROL_PING:
		fprintf(reply, "ok: verdictd %s\n", VD_VERSION_STRING);
		return 0;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void handle_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	if (read(d->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		/* The outcome is logged when the load ends. A SIGHUP during a
		 * reload loads once more after it: the file may have changed
		 * since that load read it. */
		if (d->rules && vd_reloader_running(d->reloader)) {
			d->reload_again = true;
			vd_log(VD_LOG_INFO, "SIGHUP during a reload: loading again when it ends");
		} else if (d->rules && vd_reloader_start(d->reloader) < 0) {
			vd_log(VD_LOG_ERROR, "SIGHUP: cannot start a reload: %s", strerror(errno));
		} else if (d->rules) {
			vd_service_reloading();
		} else if (!d->rules && !d->sink) {
			vd_log(VD_LOG_INFO, "SIGHUP: nothing to reload (no --rules)");
		}
		if (d->sink) {
			char err[VD_ERRBUF_SIZE];

			if (vd_log_sink_reopen(d->sink, err, sizeof(err)) < 0)
				vd_log(VD_LOG_ERROR, "reopening the log outputs: %s", err);
			else
				vd_log(VD_LOG_INFO, "log outputs reopened");
		}
		return;
	}
	vd_log(VD_LOG_INFO, "%s: stopping", strsignal((int)si.ssi_signo));
	d->stop = true;
}

void vd_daemon_report(struct daemon *d, const char *label)
{
	struct vd_stats_snapshot snap;

	if (daemon_snapshot(d, &snap) < 0)
		vd_log(VD_LOG_ERROR, "no statistics line: out of memory");
	else
		vd_stats_text(stdout, &snap, label);
	vd_stats_snapshot_free(&snap);
}

void vd_daemon_serve(struct daemon *d)
{
	double interval = d->opts->stats_interval;
	double next_stats = interval > 0 ? now_s() + interval : INFINITY;
	double next_watch = now_s() + VD_KERNEL_WATCH_INTERVAL_S;
	/* The metrics file is written at once, so that it is there as soon as
	 * the daemon serves, then every stats interval (a default without one). */
	double metrics_interval = interval > 0 ? interval : VD_METRICS_FILE_DEFAULT_INTERVAL_S;
	double next_metrics = d->opts->metrics_file ? now_s() : INFINITY;

	while (!d->stop && d->engine && vd_engine_running(d->engine)) {
		/* Signals, the reload thread's end, the control socket's listener
		 * and clients: nothing here blocks, everything is polled. */
		struct pollfd fds[2 + VD_CONTROL_POLLFDS] = {
			{ .fd = d->sigfd, .events = POLLIN },
			{ .fd = d->reloader ? vd_reloader_fd(d->reloader) : -1, .events = POLLIN },
		};
		nfds_t nfds = d->control ? 2 + VD_CONTROL_POLLFDS : 2;
		double next = fmin(fmin(next_stats, next_metrics), next_watch);
		double wait_ms = fmin(POLL_INTERVAL_MS, fmax(0, (next - now_s()) * 1000));
		int control_ms = d->control ? vd_control_poll_timeout(d->control) : -1;

		if (d->control)
			vd_control_poll_fill(d->control, fds + 2);
		if (control_ms >= 0)
			wait_ms = fmin(wait_ms, control_ms);
		/* On an error (EINTR) revents stay 0: only deadlines are checked.
		 * Rounded up: truncating the last fraction of a millisecond to 0
		 * would spin poll() until the deadline. */
		(void)poll(fds, nfds, (int)ceil(wait_ms));
		if (fds[0].revents & POLLIN)
			handle_signal(d);
		if (fds[1].revents & POLLIN)
			reload_finished(d);
		if (d->control)
			vd_control_poll_handle(d->control, fds + 2, control_handler, d);
		/* Before the stats line, so that it shows what was just seen. */
		if (now_s() >= next_watch && d->watch) {
			vd_kernel_watch_poll(d->watch, d->engine, &d->watch_cfg);
			next_watch = now_s() + VD_KERNEL_WATCH_INTERVAL_S;
		}
		if (now_s() >= next_stats) {
			vd_daemon_report(d, NULL);
			next_stats += interval;
		}
		if (now_s() >= next_metrics) {
			metrics_file_update(d);
			next_metrics = now_s() + metrics_interval;
		}
	}
	if (!d->stop)
		vd_log(VD_LOG_ERROR, "a worker stopped on an error: shutting down");
}
