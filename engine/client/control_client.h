/*
 * control_client.h - the client end of verdictd's control socket
 * (control_protocol.h): send one command, copy the answer out.
 */
#ifndef VD_CONTROL_CLIENT_H
#define VD_CONTROL_CLIENT_H

#include <stdio.h>

#include "control_protocol.h"

/* Sends cmd to the daemon listening at path and copies the answer to out,
 * all within timeout_ms (connecting, sending, and reading the answer to its
 * end). Returns 0 when the answer does not start with "error:" (the stats
 * lines, or "ok: ..."), 1 when it does; -1 with errno set when the daemon
 * could not be reached or the connection failed: ETIMEDOUT when the time ran
 * out (part of the answer may have been copied), ENODATA when it closed
 * without answering, E2BIG for a command longer than the protocol's line. */
int vd_control_request(const char *path, const char *cmd, int timeout_ms, FILE *out);

#endif
