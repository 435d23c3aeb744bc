/*
 * replay.h - verdictd --replay: a capture file through the rule table,
 * offline (no kernel, no root), with per-rule hits and a verdict summary.
 */
#ifndef VD_REPLAY_H
#define VD_REPLAY_H

#include <stdio.h>

#include "cli.h"

/* Runs o->replay through o->rules, writing records to --log-json/--log-pcap
 * when given and the summary to out. Returns the exit status: 0, or 1 with
 * one line on stderr (a file that cannot be read, rules that do not load). */
int vd_replay_run(const struct vd_cli_options *o, FILE *out);

#endif
