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
	static const char error_prefix[] = "error:";
	char buf[4096], head[sizeof(error_prefix) - 1];
	size_t nhead = 0, total = 0;
	int fd = connect_to(path);
	ssize_t n;

	if (fd < 0)
		return -1;
	if (dprintf(fd, "%s\n", cmd) < 0) {
		close(fd);
		return -1;
	}
	shutdown(fd, SHUT_WR);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		/* The answer's start may come over several reads. */
		for (ssize_t i = 0; i < n && nhead < sizeof(head); i++)
			head[nhead++] = buf[i];
		total += (size_t)n;
		fwrite(buf, 1, (size_t)n, out);
	}
	if (n < 0 || total == 0) {
		int saved = n < 0 ? errno : ENODATA;

		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return nhead == sizeof(head) && memcmp(head, error_prefix, sizeof(head)) == 0;
}
