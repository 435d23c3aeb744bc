/* control_socket.c - the control socket's file and its access (control_socket.h). */
#define _GNU_SOURCE /* struct ucred */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_socket.h"

static int make_address(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

/* Whether a daemon answers at path (a connection is accepted). */
static bool socket_answers(const char *path)
{
	struct sockaddr_un sa;
	int fd;
	bool live;

	if (make_address(path, &sa) < 0)
		return false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	/* Non-blocking: a full backlog (EAGAIN) is a live daemon too. */
	live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN;
	close(fd);
	return live;
}

static const char *file_kind(mode_t mode)
{
	if (S_ISREG(mode))
		return "regular file";
	if (S_ISDIR(mode))
		return "directory";
	if (S_ISLNK(mode))
		return "symbolic link";
	if (S_ISFIFO(mode))
		return "FIFO";
	return "device";
}

/* 0 when path is free or a stale socket (rename will replace it). */
static int check_existing(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "control socket %s: exists and is a %s, not a socket: left "
			 "alone (remove it or give --control another path)", path, file_kind(st.st_mode));
		errno = ENOTSOCK;
		return -1;
	}
	/* Someone answering means another daemon owns the path: leave it be. */
	if (socket_answers(path)) {
		snprintf(err, errlen, "control socket %s is in use by another verdictd "
			 "(give this one --control PATH)", path);
		errno = EADDRINUSE;
		return -1;
	}
	return 0;
}

/* Binds fd at tmp with the socket file's final mode and group, then listens:
 * nobody can connect through tmp with a wider mode than the final one. */
static int bind_private(int fd, const char *tmp, gid_t group, int backlog)
{
	struct sockaddr_un sa;
	mode_t mode = group == (gid_t)-1 ? 0600 : 0660;

	if (make_address(tmp, &sa) < 0)
		return -1;
	/* Linux creates a unix socket's file with the socket inode's mode (less
	 * the umask): 0600 from the start, widened only after the chown. */
	if (fchmod(fd, 0600) < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	if ((group != (gid_t)-1 && fchownat(AT_FDCWD, tmp, (uid_t)-1, group,
					    AT_SYMLINK_NOFOLLOW) < 0) ||
	    chmod(tmp, mode) < 0 || listen(fd, backlog) < 0) {
		int saved = errno;

		unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}

int vd_control_socket_open(const char *path, gid_t group, int backlog,
			   struct vd_control_socket_id *id, char *err, size_t errlen)
{
	char tmp[sizeof(((struct sockaddr_un *)0)->sun_path) + 32];
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.%ld.new", path, (long)getpid());
	if (make_address(path, &sa) < 0 || make_address(tmp, &sa) < 0) {
		snprintf(err, errlen, "control socket %s: path too long (at most %zu bytes, "
			 "with room for a temporary name beside it)", path,
			 sizeof(sa.sun_path) - 1 - (strlen(tmp) - strlen(path)));
		errno = ENAMETOOLONG;
		return -1;
	}
	if (check_existing(path, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind_private(fd, tmp, group, backlog) < 0)
		goto fail;
	/* Atomic: a stale socket at path is replaced, never left missing. */
	if (rename(tmp, path) < 0) {
		int saved = errno;

		unlink(tmp);
		errno = saved;
		goto fail;
	}
	if (lstat(path, &st) < 0)
		goto fail;
	*id = (struct vd_control_socket_id){ .dev = st.st_dev, .ino = st.st_ino };
	return fd;
fail:
	snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
	if (fd >= 0) {
		int saved = errno;

		close(fd);
		errno = saved;
	}
	return -1;
}

void vd_control_socket_remove(const char *path, const struct vd_control_socket_id *id)
{
	struct stat st;

	/* Another daemon may have replaced a file it took for stale. */
	if (lstat(path, &st) == 0 && st.st_dev == id->dev && st.st_ino == id->ino)
		unlink(path);
}

static bool peer_in_group(int fd, gid_t group)
{
	gid_t small[64], *list = small;
	socklen_t len = sizeof(small);
	bool found = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, list, &len) < 0) {
		/* ERANGE: len now says how much the list needs. */
		if (errno != ERANGE || !(list = malloc(len)))
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, list, &len) < 0)
			len = 0;
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		found = found || list[i] == group;
	if (list != small)
		free(list);
	return found;
}

bool vd_control_socket_peer_allowed(int fd, gid_t group, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	*uid = (uid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	*uid = cred.uid;
	if (cred.uid == 0 || cred.uid == geteuid())
		return true;
	if (group == (gid_t)-1)
		return false;
	return cred.gid == group || peer_in_group(fd, group);
}
