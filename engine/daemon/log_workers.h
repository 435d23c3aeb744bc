/*
 * log_workers.h - the daemon's NFLOG groups: one thread per --nflog group,
 * each writing what it reads to the log sink (when there is one).
 *
 * Main thread only: start, running, stop, wait, report, free.
 */
#ifndef VD_LOG_WORKERS_H
#define VD_LOG_WORKERS_H

#include <stdbool.h>
#include <stdio.h>

#include <verdict/rules.h>

#include "cli.h"
#include "log_sink.h"

struct vd_log_workers;

/* Opens and binds every group (so that errors show before any thread runs),
 * then starts one thread each. Group i is log worker i of rules (its `logs`
 * list filters and annotates what is written). NULL with one line in err.
 * rules and sink may be NULL. */
struct vd_log_workers *vd_log_workers_start(const struct vd_cli_options *o, struct vd_rules *rules,
					    struct vd_log_sink *sink, char *err, size_t errlen);

bool vd_log_workers_running(const struct vd_log_workers *w);
void vd_log_workers_stop(struct vd_log_workers *w); /* async-signal-safe */
int vd_log_workers_wait(struct vd_log_workers *w);  /* -1 when one failed */

/* "nflog[ LABEL]: g5 packets=… enobufs=… seq_gaps=… rcvbuf=…; …" */
void vd_log_workers_report(FILE *out, const struct vd_log_workers *w, const char *label);

void vd_log_workers_free(struct vd_log_workers *w); /* unbinds; NULL ok */

#endif
