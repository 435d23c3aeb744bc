/* reloader.c - rules reloads off the main thread (reloader.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"
#include "reloader.h"

struct vd_reloader {
	struct vd_rules *rules;
	int efd;
	bool running;     /* main thread's view: started and not yet finished */
	pthread_t thread;
	/* Written by the reload thread before it signals efd, read after. */
	int rc, err;
	char errbuf[VD_ERRBUF_SIZE];
};

static void *reload_thread(void *arg)
{
	struct vd_reloader *rl = arg;
	uint64_t one = 1;

	rl->rc = vd_rules_reload(rl->rules, rl->errbuf);
	rl->err = rl->rc < 0 ? errno : 0;
	/* The eventfd's write orders the fields above before the main
	 * thread's read of it. */
	if (write(rl->efd, &one, sizeof(one)) != sizeof(one))
		vd_log(VD_LOG_ERROR, "reload: cannot signal the main thread: %s", strerror(errno));
	return NULL;
}

struct vd_reloader *vd_reloader_new(struct vd_rules *rules)
{
	struct vd_reloader *rl = calloc(1, sizeof(*rl));

	if (!rl)
		return NULL;
	rl->rules = rules;
	rl->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rl->efd < 0) {
		int saved = errno;

		free(rl);
		errno = saved;
		return NULL;
	}
	return rl;
}

int vd_reloader_fd(const struct vd_reloader *rl)
{
	return rl->efd;
}

bool vd_reloader_running(const struct vd_reloader *rl)
{
	return rl->running;
}

int vd_reloader_start(struct vd_reloader *rl)
{
	int rc;

	if (rl->running) {
		errno = EBUSY;
		return -1;
	}
	rl->rc = 0;
	rl->errbuf[0] = '\0';
	rc = pthread_create(&rl->thread, NULL, reload_thread, rl);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	rl->running = true;
	return 0;
}

int vd_reloader_finish(struct vd_reloader *rl, char *errbuf)
{
	uint64_t count;

	if (!rl->running || read(rl->efd, &count, sizeof(count)) != sizeof(count)) {
		errno = EAGAIN;
		return -1;
	}
	pthread_join(rl->thread, NULL);
	rl->running = false;
	memcpy(errbuf, rl->errbuf, VD_ERRBUF_SIZE);
	errno = rl->err;
	return rl->rc;
}

bool vd_reloader_stop(struct vd_reloader *rl, int timeout_ms)
{
	struct pollfd p = { .fd = rl->efd, .events = POLLIN };
	char errbuf[VD_ERRBUF_SIZE];

	if (!rl->running)
		return true;
	vd_rules_reload_cancel(rl->rules);
	if (poll(&p, 1, timeout_ms) <= 0)
		return false;
	if (vd_reloader_finish(rl, errbuf) < 0)
		vd_log(VD_LOG_INFO, "reload abandoned: %s", errbuf);
	return true;
}

void vd_reloader_free(struct vd_reloader *rl)
{
	if (!rl)
		return;
	close(rl->efd);
	free(rl);
}
