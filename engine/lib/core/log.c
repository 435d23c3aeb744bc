/* log.c - one-line diagnostics on stderr and the error-buffer helper. */
#include <stdarg.h>
#include <stdio.h>

#include <verdict/queue.h>

#include "log.h"

static enum vd_log_level log_level = VD_LOG_INFO;

void vd_log_set_level(enum vd_log_level level)
{
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

void vd_log(enum vd_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[512];
	va_list ap;

	if (level > __atomic_load_n(&log_level, __ATOMIC_RELAXED))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf per line so that lines from workers do not interleave. */
	fprintf(stderr, "verdictd: %s: %s\n", names[level], line);
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
