/*
 * verdict/log.h - where libverdict's diagnostics go.
 *
 * The library writes one-line messages (a queue that cannot be pinned, a
 * failed send, a hook error, at most one a second per source where they can
 * repeat). By default each goes to stderr as "libverdict: LEVEL: MESSAGE".
 * A program routes them to its own log with a handler:
 *
 *     static void to_syslog(enum vd_log_level level, const char *msg, void *user)
 *     {
 *             syslog(level == VD_LOG_ERROR ? LOG_ERR : LOG_INFO, "%s", msg);
 *     }
 *     vd_log_set_handler(to_syslog, NULL);
 *
 * Threading: lines come from any thread (workers, the thread loading rules).
 * The handler is called with a library lock held, one line at a time, so
 * lines never interleave; it must not call back into libverdict and should
 * not block for long (a worker's batch waits for it).
 */
#ifndef VERDICT_LOG_H
#define VERDICT_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

enum vd_log_level { VD_LOG_ERROR = 0, VD_LOG_WARN = 1, VD_LOG_INFO = 2, VD_LOG_DEBUG = 3 };

/* One message, without a trailing newline, valid only during the call. */
typedef void (*vd_log_handler)(enum vd_log_level level, const char *message, void *user);

/* Sends every later message to handler (with user); NULL restores the
 * default (stderr). Thread-safe. */
void vd_log_set_handler(vd_log_handler handler, void *user);

/* Drops messages less important than level (default VD_LOG_INFO: errors,
 * warnings and information pass, debug does not). Thread-safe. */
void vd_log_set_level(enum vd_log_level level);

/* "error", "warning", "info", "debug". Never NULL. */
const char *vd_log_level_name(enum vd_log_level level);

#ifdef __cplusplus
}
#endif

#endif
