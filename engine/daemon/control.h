/*
 * control.h - verdictd's control socket: a unix stream socket that takes one
 * line ("reload", "stats", "ping") per connection and answers with text
 * that starts with "error:" on failure; otherwise "ok: ..." (reload, ping)
 * or the stats lines themselves (stats). verdictctl is its client.
 *
 * Served from the daemon's main thread (poll on vd_control_fd), so control
 * commands and signals never run concurrently.
 */
#ifndef VD_CONTROL_H
#define VD_CONTROL_H

#include <stdio.h>

#include "control_protocol.h"

struct vd_control;

/* Writes the answer to cmd (without its newline) to reply. */
typedef void (*vd_control_handler)(const char *cmd, FILE *reply, void *data);

/* Listens on path (mode 0600). A stale socket file (nobody answers) is
 * replaced; a live one is an error (EADDRINUSE). NULL with err filled. */
struct vd_control *vd_control_open(const char *path, char *err, size_t errlen);

int vd_control_fd(const struct vd_control *c);

/* Accepts one connection, reads its command (1 s at most) and answers. */
void vd_control_serve(struct vd_control *c, vd_control_handler handler, void *data);

/* Closes and unlinks the socket. NULL is a no-op. */
void vd_control_close(struct vd_control *c);

#endif
