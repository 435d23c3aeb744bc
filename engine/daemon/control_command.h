/*
 * control_command.h - what a control client's command line means: the one
 * parser of the control protocol's requests (control_protocol.h). Pure: no
 * I/O, no allocation, no global state, so fuzz targets and unit tests call
 * it on any bytes.
 */
#ifndef VD_CONTROL_COMMAND_H
#define VD_CONTROL_COMMAND_H

#include <stddef.h>

enum vd_control_command {
	VD_CONTROL_RELOAD,
	VD_CONTROL_STATS,
	VD_CONTROL_PING,
	VD_CONTROL_STATS_JSON, /* the stats as one JSON object */
	VD_CONTROL_METRICS,    /* the stats in the Prometheus text format */
};

/* Parses one command line: the len bytes at buf, its newline excluded (a
 * final "\r" is allowed, for line-oriented tools). Every byte must be
 * printable ASCII (0x20-0x7e): NUL, control characters and bytes above 0x7e
 * are refused, so "reload\0junk" is an error and never "reload". The command
 * is one of "reload", "stats", "ping", "stats-json", "metrics", exactly.
 *
 * Returns 0 with *cmd set, or -1 with one line in err (errlen bytes, no
 * "error:" prefix and no newline) saying what is wrong and where. buf may be
 * NULL when len is 0. */
int vd_control_command_parse(const char *buf, size_t len, enum vd_control_command *cmd, char *err,
			     size_t errlen);

/* "reload", "stats", "ping", "stats-json" or "metrics". */
const char *vd_control_command_name(enum vd_control_command cmd);

#endif
