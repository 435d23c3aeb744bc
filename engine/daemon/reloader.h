/*
 * reloader.h - runs vd_rules_reload on a thread of its own, so that the
 * daemon's main thread keeps serving signals, the control socket and stats
 * while a rules file loads, however long that takes.
 *
 * One reload at a time. The reload thread signals its end on an eventfd
 * (vd_reloader_fd) that the main loop polls; the main thread then collects
 * the outcome with vd_reloader_finish. Every call here is the main thread's.
 */
#ifndef VD_RELOADER_H
#define VD_RELOADER_H

#include <stdbool.h>

#include <verdict/libverdict.h>
#include <verdict/rules.h>

struct vd_reloader;

/* NULL with errno set when the eventfd cannot be made. */
struct vd_reloader *vd_reloader_new(struct vd_rules *rules);

/* Readable when a reload has ended. */
int vd_reloader_fd(const struct vd_reloader *rl);

bool vd_reloader_running(const struct vd_reloader *rl);

/* Starts a reload. -1 with errno: EBUSY while one runs, or from
 * pthread_create. */
int vd_reloader_start(struct vd_reloader *rl);

/* Once vd_reloader_fd is readable: the ended reload's outcome, 0 or -1 with
 * errbuf (VD_ERRBUF_SIZE bytes) filled and errno set (ECANCELED when it was
 * cancelled), as vd_rules_reload returned it. */
int vd_reloader_finish(struct vd_reloader *rl, char *errbuf);

/* Cancels a running reload and waits up to timeout_ms for it to end.
 * Returns true when no reload runs any more; false when it is still running
 * (stuck where cancellation does not reach): then the rules must not be
 * closed, and the process should exit without waiting for it. */
bool vd_reloader_stop(struct vd_reloader *rl, int timeout_ms);

/* Frees it; no reload may be running. NULL is a no-op. */
void vd_reloader_free(struct vd_reloader *rl);

#endif
