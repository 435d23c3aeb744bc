/* log.c - one-line diagnostics through the program's handler (verdict/log.h). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include <verdict/queue.h>

#include "export.h"
#include "log.h"

static enum vd_log_level log_level = VD_LOG_INFO;
static pthread_mutex_t handler_lock = PTHREAD_MUTEX_INITIALIZER;
static vd_log_handler handler;
static void *handler_user;

VD_EXPORT const char *vd_log_level_name(enum vd_log_level level)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	return (unsigned)level < sizeof(names) / sizeof(names[0]) ? names[level] : "debug";
}

VD_EXPORT void vd_log_set_level(enum vd_log_level level)
{
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

VD_EXPORT void vd_log_set_handler(vd_log_handler h, void *user)
{
	pthread_mutex_lock(&handler_lock);
	handler = h;
	handler_user = user;
	pthread_mutex_unlock(&handler_lock);
}

void vd_log(enum vd_log_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (level > __atomic_load_n(&log_level, __ATOMIC_RELAXED))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* The handler and its user change together, and lines from workers
	 * never interleave: one lock around the call. Not the hot path: hot
	 * messages are rate-limited at their source. */
	pthread_mutex_lock(&handler_lock);
	if (handler)
		handler(level, line, handler_user);
	else
		fprintf(stderr, "libverdict: %s: %s\n", vd_log_level_name(level), line);
	pthread_mutex_unlock(&handler_lock);
}

void vd_errbuf_set(char *errbuf, const char *fmt, ...)
{
	va_list ap;

	if (!errbuf)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, VD_ERRBUF_SIZE, fmt, ap);
	va_end(ap);
}
