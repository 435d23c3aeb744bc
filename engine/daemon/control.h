/*
 * control.h - verdictd's control socket: a unix stream socket that takes one
 * line ("reload", "stats", "stats-json", "metrics", "ping") per connection
 * and answers with text that starts with "error:" on failure; otherwise
 * "ok: ..." (reload, ping) or the stats themselves (the text lines, the JSON
 * object, the Prometheus text). verdictctl is its client.
 *
 * Served from the daemon's main loop without ever blocking it: the listening
 * socket and every client are non-blocking and polled together with the
 * daemon's other descriptors (vd_control_poll_fill, then
 * vd_control_poll_handle after poll returns). Each client has a deadline
 * (VD_CONTROL_CLIENT_TIMEOUT_MS to send its whole command line, and as long
 * again for every stretch of the answer it does not read) and buffers of its
 * own: the answer is rendered into memory at once and sent as the socket
 * takes it. At most VD_CONTROL_MAX_CLIENTS at a time; beyond that a new
 * connection gets "error: busy ..." and is closed.
 *
 * Access: the socket file has mode 0600, or 0660 with the --control-group
 * group, set before the file appears under its name (it is bound under a
 * temporary name and renamed into place). On top of that the peer's
 * credentials (SO_PEERCRED) are checked: root, the daemon's own uid and
 * members of the group (primary or supplementary) are served; anyone else
 * gets one "error:" line.
 *
 * Threading: everything here runs on the one thread that owns the
 * vd_control (the daemon's main thread); handlers are called on it.
 */
#ifndef VD_CONTROL_H
#define VD_CONTROL_H

#include <poll.h>
#include <stdio.h>
#include <sys/types.h>

#include "control_command.h"
#include "control_protocol.h"

#define VD_CONTROL_MAX_CLIENTS 32
#define VD_CONTROL_BACKLOG 64
#define VD_CONTROL_CLIENT_TIMEOUT_MS 2000
/* pollfd slots vd_control_poll_fill fills: the listener, then one per client. */
#define VD_CONTROL_POLLFDS (1 + VD_CONTROL_MAX_CLIENTS)

/* A handler's return value: the answer comes later, by vd_control_answer. */
#define VD_CONTROL_DEFERRED 1

struct vd_control;

struct vd_control_config {
	const char *path; /* where the socket lives */
	gid_t group;      /* --control-group: members may use it; (gid_t)-1: none */
};

/* Answers cmd by writing the whole answer to reply and returning 0, or
 * returns VD_CONTROL_DEFERRED (writing nothing) to answer later. */
typedef int (*vd_control_handler)(enum vd_control_command cmd, FILE *reply, void *data);

/* Listens on cfg->path. Only a stale socket there (nobody answers) is
 * replaced. NULL with errno and err filled: ENOTSOCK when the path exists and
 * is not a socket (it is left alone), EADDRINUSE when another daemon answers
 * on it, anything else from the system. */
struct vd_control *vd_control_open(const struct vd_control_config *cfg, char *err, size_t errlen);

/* Fills fds[0..VD_CONTROL_POLLFDS-1]: free client slots get fd -1. */
void vd_control_poll_fill(const struct vd_control *c, struct pollfd *fds);

/* Milliseconds until the next client deadline; -1: none. */
int vd_control_poll_timeout(const struct vd_control *c);

/* After poll (whatever it returned): accepts, reads, answers, writes and
 * drops what is due. fds are the ones vd_control_poll_fill filled. */
void vd_control_poll_handle(struct vd_control *c, const struct pollfd *fds,
			    vd_control_handler handler, void *data);

/* Answers every client whose handler call was deferred with answer (which
 * ends with a newline). Clients that left in the meantime are gone. */
void vd_control_answer(struct vd_control *c, const char *answer);

/* Closes the clients (a deferred one is told the daemon stops), the socket,
 * and unlinks its file if it is still the one this daemon made. NULL is a
 * no-op. */
void vd_control_close(struct vd_control *c);

#endif
