/* control_client.c - verdictctl's end of the control socket. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control_client.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or the deadline passes (ETIMEDOUT). */
static int wait_until(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int n;

	do {
		left = deadline - now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		errno = ETIMEDOUT;
	return n > 0 ? 0 : -1;
}

/* A non-blocking connection. A unix socket whose backlog is full answers
 * EAGAIN rather than waiting: try again until the deadline. */
static int connect_to(const char *path, int64_t deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	while ((rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa))) < 0 && errno == EAGAIN &&
	       now_ms() < deadline)
		nanosleep(&pause, NULL);
	if (rc < 0 && errno == EAGAIN)
		errno = ETIMEDOUT;
	if (rc < 0 && errno == EINPROGRESS && wait_until(fd, POLLOUT, deadline) == 0) {
		socklen_t len = sizeof(rc);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &rc, &len) == 0 && rc != 0)
			errno = rc;
		rc = rc ? -1 : 0;
	}
	if (rc < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN && wait_until(fd, POLLOUT, deadline) == 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copies the answer to out until the daemon closes; 1 when it starts with
 * "error:", 0 otherwise, -1 with errno. */
static int copy_answer(int fd, FILE *out, int64_t deadline)
{
	static const char error_prefix[] = "error:";
	char buf[4096], head[sizeof(error_prefix) - 1];
	size_t nhead = 0, total = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EAGAIN && wait_until(fd, POLLIN, deadline) == 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		/* A daemon that answers and closes before reading our command
		 * ("error: busy") resets the connection after its answer. */
		if (n < 0 && errno == ECONNRESET && total > 0)
			n = 0;
		if (n <= 0)
			break;
		/* The answer's start may come over several reads. */
		for (ssize_t i = 0; i < n && nhead < sizeof(head); i++)
			head[nhead++] = buf[i];
		total += (size_t)n;
		fwrite(buf, 1, (size_t)n, out);
	}
	if (n < 0)
		return -1;
	if (total == 0) {
		errno = ENODATA;
		return -1;
	}
	return nhead == sizeof(head) && memcmp(head, error_prefix, sizeof(head)) == 0;
}

int vd_control_request(const char *path, const char *cmd, int timeout_ms, FILE *out)
{
	char line[VD_CONTROL_MAX_COMMAND + 1];
	int64_t deadline = now_ms() + timeout_ms;
	int len = snprintf(line, sizeof(line), "%s\n", cmd);
	int fd, status, saved;

	if (len < 0 || (size_t)len > VD_CONTROL_MAX_COMMAND) {
		errno = E2BIG;
		return -1;
	}
	fd = connect_to(path, deadline);
	if (fd < 0)
		return -1;
	status = send_all(fd, line, (size_t)len, deadline);
	/* Closed before our command went out: its answer may be there. */
	if (status == 0 || errno == EPIPE || errno == ECONNRESET) {
		shutdown(fd, SHUT_WR);
		status = copy_answer(fd, out, deadline);
	}
	saved = errno;
	close(fd);
	errno = saved;
	return status;
}
