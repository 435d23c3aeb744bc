/* control_client.c - verdictctl's end of the control socket. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_client.h"

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int vd_control_request(const char *path, const char *cmd, FILE *out)
{
	char buf[4096];
	int fd = connect_to(path), status = 1, first = 1;
	ssize_t n;

	if (fd < 0)
		return -1;
	if (dprintf(fd, "%s\n", cmd) < 0) {
		close(fd);
		return -1;
	}
	shutdown(fd, SHUT_WR);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (first && n >= 2 && memcmp(buf, "ok", 2) == 0)
			status = 0;
		first = 0;
		fwrite(buf, 1, (size_t)n, out);
	}
	close(fd);
	return status;
}
