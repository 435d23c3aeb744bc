/*
 * main.c - the verdictd daemon: options in, an engine over the queues, signals
 * handled on the main thread, statistics out.
 *
 * Thin by design: every packet decision lives in libverdict (and, later, in
 * the rule table). Until rule files exist, every packet gets --default.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <verdict/libverdict.h>

#include "cli.h"
#include "log.h"
#include "stats_report.h"

/* Re-check for a failed worker at least this often. */
#define POLL_INTERVAL_S 0.2

/* The daemon's packet callback: the default verdict, whatever arrives. */
static struct vd_verdict default_verdict_cb(const struct vd_packet *pkt, void *user)
{
	(void)pkt;
	return *(const struct vd_verdict *)user;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct timespec to_timespec(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s };

	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	return ts;
}

/* Waits for SIGINT or SIGTERM (or a dead worker), printing statistics on the
 * way. Signals are taken synchronously here, so no handler races a worker. */
static void serve(struct vd_engine *e, const struct vd_cli_options *o, const sigset_t *sigs)
{
	double next_stats = o->stats_interval > 0 ? now_s() + o->stats_interval : INFINITY;

	while (vd_engine_running(e)) {
		double wait = fmin(POLL_INTERVAL_S, fmax(0, next_stats - now_s()));
		struct timespec ts = to_timespec(wait);
		int sig = sigtimedwait(sigs, NULL, &ts);

		if (sig == SIGINT || sig == SIGTERM) {
			vd_log(VD_LOG_INFO, "%s: stopping", strsignal(sig));
			return;
		}
		if (sig == SIGHUP)
			vd_log(VD_LOG_INFO, "SIGHUP: nothing to reload (no rule file in use)");
		if (now_s() >= next_stats) {
			vd_stats_report(stdout, e, NULL);
			next_stats += o->stats_interval;
		}
	}
	vd_log(VD_LOG_ERROR, "a worker stopped on an error: shutting down");
}

static void describe(const struct vd_cli_options *o)
{
	char list[256];
	size_t off = 0;

	for (size_t i = 0; i < o->nqueues && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%u", i ? "," : "",
					o->queues[i]);
	vd_log(VD_LOG_INFO, "ready: %zu worker%s on queue%s %s, default verdict %s", o->nqueues,
	       o->nqueues == 1 ? "" : "s", o->nqueues == 1 ? "" : "s", list,
	       vd_verdict_kind_name(o->default_verdict.kind));
}

static struct vd_engine *engine_from_options(struct vd_cli_options *o, char *errbuf)
{
	uint16_t queues[VD_CLI_MAX_QUEUES];
	int cpus[VD_CLI_MAX_CPUS];
	struct vd_engine_config cfg = {
		.queues = queues,
		.nqueues = o->nqueues,
		.cpus = cpus,
		.ncpus = o->ncpus,
		.queue = {
			.copy_range = o->copy_range,
			.maxlen = o->maxlen,
			.flags = o->queue_flags,
			.optional_flags = o->optional_flags,
			.batch_size = o->batch,
			.rcvbuf = o->rcvbuf,
			.callback = default_verdict_cb,
			.user = &o->default_verdict,
		},
	};

	for (size_t i = 0; i < o->nqueues; i++)
		queues[i] = (uint16_t)o->queues[i];
	for (size_t i = 0; i < o->ncpus; i++)
		cpus[i] = (int)o->cpus[i];
	return vd_engine_create(&cfg, errbuf);
}

int main(int argc, char **argv)
{
	static struct vd_cli_options opts;
	char errbuf[VD_ERRBUF_SIZE];
	struct vd_engine *engine;
	sigset_t sigs;
	int status = 0;

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
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	engine = engine_from_options(&opts, errbuf);
	if (!engine) {
		fprintf(stderr, "verdictd: %s\n", errbuf);
		return 1;
	}
	if (vd_engine_start(engine, errbuf) < 0) {
		fprintf(stderr, "verdictd: %s\n", errbuf);
		vd_engine_destroy(engine);
		return 1;
	}
	describe(&opts);
	serve(engine, &opts, &sigs);
	vd_engine_stop(engine);
	if (vd_engine_wait(engine) < 0)
		status = 1;
	vd_stats_report(stdout, engine, "final");
	vd_engine_destroy(engine);
	return status;
}
