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

#include "internal.h"
#include "serve.h"
#include "stats_report.h"

/* Re-check for a failed worker at least this often. */
#define POLL_INTERVAL_MS 200

/* Queue and group counters, as stats lines ("stats: ...", "nflog: ..."). */
static void report_engine(FILE *out, const struct daemon *d, const char *label)
{
	const struct vd_engine *e = d->engine;

	if (e && vd_engine_nqueues(e))
		vd_stats_report(out, e, d->watch, label);
	if (e && vd_engine_ngroups(e))
		vd_log_workers_report(out, e, label);
}

/* A reload thread ended: log the outcome, answer the client that asked,
 * start the reload a SIGHUP asked for meanwhile. */
static void reload_finished(struct daemon *d)
{
	char errbuf[VD_ERRBUF_SIZE], answer[VD_ERRBUF_SIZE + 64];
	unsigned gen;

	if (vd_reloader_finish(d->reloader, errbuf) < 0) {
		vd_log(VD_LOG_ERROR, "reload refused, the old rules stay: %s", errbuf);
		snprintf(answer, sizeof(answer), "error: %s (the old rules stay)\n", errbuf);
	} else {
		gen = vd_rules_generation(d->rules);
		vd_log(VD_LOG_INFO, "reloaded %s (generation %u)", d->opts->rules, gen);
		snprintf(answer, sizeof(answer), "ok: reloaded %s (generation %u)\n",
			 d->opts->rules, gen);
	}
	if (d->reload_client && d->control)
		vd_control_answer(d->control, answer);
	d->reload_client = false;
	if (d->reload_again) {
		d->reload_again = false;
		if (vd_reloader_start(d->reloader) < 0)
			vd_log(VD_LOG_ERROR, "SIGHUP: cannot start a reload: %s", strerror(errno));
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
	return VD_CONTROL_DEFERRED;
}

static void report_outputs(FILE *out, struct vd_log_sink *sink, const char *label);

static int control_handler(enum vd_control_command cmd, FILE *reply, void *data)
{
	struct daemon *d = data;

	switch (cmd) {
	case VD_CONTROL_RELOAD:
		return reload_request(d, reply);
	case VD_CONTROL_STATS:
		/* The lines alone, no "ok" before them: the answer parses as it is.
		 * The client tells success by the absence of "error:". */
		report_engine(reply, d, NULL);
		report_outputs(reply, d->sink, NULL);
		if (d->rules)
			vd_rules_report(reply, d->rules, NULL);
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

/* The outputs' line: "logs[ LABEL]: written=N errors=M". */
static void report_outputs(FILE *out, struct vd_log_sink *sink, const char *label)
{
	uint64_t written, errors;

	if (!sink)
		return;
	vd_log_sink_counts(sink, &written, &errors);
	fprintf(out, "logs%s%s: written=%llu errors=%llu\n", label ? " " : "", label ? label : "",
		(unsigned long long)written, (unsigned long long)errors);
	fflush(out);
}

void vd_daemon_report(struct daemon *d, const char *label)
{
	report_engine(stdout, d, label);
	report_outputs(stdout, d->sink, label);
}

void vd_daemon_serve(struct daemon *d)
{
	double interval = d->opts->stats_interval;
	double next_stats = interval > 0 ? now_s() + interval : INFINITY;
	double next_watch = now_s() + VD_KERNEL_WATCH_INTERVAL_S;

	while (!d->stop && d->engine && vd_engine_running(d->engine)) {
		/* Signals, the reload thread's end, the control socket's listener
		 * and clients: nothing here blocks, everything is polled. */
		struct pollfd fds[2 + VD_CONTROL_POLLFDS] = {
			{ .fd = d->sigfd, .events = POLLIN },
			{ .fd = d->reloader ? vd_reloader_fd(d->reloader) : -1, .events = POLLIN },
		};
		nfds_t nfds = d->control ? 2 + VD_CONTROL_POLLFDS : 2;
		double wait_ms = fmin(POLL_INTERVAL_MS,
				      fmax(0, (fmin(next_stats, next_watch) - now_s()) * 1000));
		int control_ms = d->control ? vd_control_poll_timeout(d->control) : -1;

		if (d->control)
			vd_control_poll_fill(d->control, fds + 2);
		if (control_ms >= 0)
			wait_ms = fmin(wait_ms, control_ms);
		/* On an error (EINTR) revents stay 0: only deadlines are checked. */
		(void)poll(fds, nfds, (int)wait_ms);
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
			if (d->rules)
				vd_rules_report(stdout, d->rules, NULL);
			next_stats += interval;
		}
	}
	if (!d->stop)
		vd_log(VD_LOG_ERROR, "a worker stopped on an error: shutting down");
}
