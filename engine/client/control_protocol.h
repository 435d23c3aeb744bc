/*
 * control_protocol.h - what verdictd's control socket and verdictctl agree
 * on: where the socket lives and what a request looks like. Shared by the
 * daemon (daemon/control.c serves it) and the client (client/control_client.c).
 *
 * A client connects, writes one command line ("reload", "stats",
 * "stats-json", "metrics", "ping"), and reads the answer until the daemon
 * closes the connection. The answer's first line starts with "ok" or
 * "error:", except for the stats commands, whose answer is the stats
 * themselves (text lines, one JSON object, Prometheus text) or one "error:"
 * line.
 */
#ifndef VD_CONTROL_PROTOCOL_H
#define VD_CONTROL_PROTOCOL_H

#define VD_CONTROL_DEFAULT_PATH "/run/verdictd.sock"

/* Longest command line, newline included. */
#define VD_CONTROL_MAX_COMMAND 128

#endif
