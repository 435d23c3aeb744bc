/*
 * replay.h - verdictd --replay: a capture file through the rule table,
 * offline (no kernel, no root), with per-rule hits and a verdict summary.
 */
#ifndef VD_REPLAY_H
#define VD_REPLAY_H

#include <stdio.h>

#include "cli.h"

/* Runs o->replay through o->rules, writing records to --log-json/--log-pcap
 * when given, the packets not dropped (rewritten as the rules rewrote them)
 * to --write-pcap when given, and the summary to out: "replay FILE:
 * packets=N skipped=S accepted=A dropped=D queued=Q repeated=R marked=M
 * parse_errors=P written=W rewritten=X rewrite_errors=E" (written: records
 * in --write-pcap, 0 without it; rewritten: packets that went on rewritten;
 * rewrite_errors: refused rewrites, their rule's on_error verdict used),
 * then the rules line. Returns the exit status with one line on stderr on
 * failure: 0; 2 when the rules file is missing or does not load, or
 * --write-pcap names the capture itself; 1 otherwise (a capture that cannot
 * be read, an output that cannot be written, no memory). */
int vd_replay_run(const struct vd_cli_options *o, FILE *out);

#endif
