/*
 * control_socket.h - the control socket's file and who may use it: creating
 * the listening socket with its mode and group already set, replacing only a
 * stale socket, removing only our own, and checking a peer's credentials.
 * Used by control.c alone.
 */
#ifndef VD_CONTROL_SOCKET_H
#define VD_CONTROL_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* What identifies the file this daemon put at its path. */
struct vd_control_socket_id {
	dev_t dev;
	ino_t ino;
};

/* A non-blocking listening socket at path, mode 0600, or 0660 owned by
 * group when group is not (gid_t)-1. The file appears under path only once
 * it has that mode and group and listens. Returns the descriptor, or -1 with
 * errno and err set: ENOTSOCK when path exists and is not a socket,
 * EADDRINUSE when a daemon answers there. */
int vd_control_socket_open(const char *path, gid_t group, int backlog,
			   struct vd_control_socket_id *id, char *err, size_t errlen);

/* Unlinks path if it is still the file id names. */
void vd_control_socket_remove(const char *path, const struct vd_control_socket_id *id);

/* Whether the peer of the connected socket fd may use the control socket:
 * root, this process's effective uid, or (group not (gid_t)-1) a member of
 * group, primary or supplementary. *uid gets the peer's uid. */
bool vd_control_socket_peer_allowed(int fd, gid_t group, uid_t *uid);

#endif
