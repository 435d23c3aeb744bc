/*
 * log.h - the library's diagnostics: one line on stderr, prefixed.
 *
 * Library code never exits; it reports and returns. Messages name the thing
 * and the place ("queue 3: ..."). Thread-safe: one fprintf per line.
 */
#ifndef VD_LOG_H
#define VD_LOG_H

#include <stdarg.h>

enum vd_log_level { VD_LOG_ERROR, VD_LOG_WARN, VD_LOG_INFO, VD_LOG_DEBUG };

/* Messages above this level are dropped (default VD_LOG_INFO). */
void vd_log_set_level(enum vd_log_level level);

void vd_log(enum vd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Formats into errbuf (VD_ERRBUF_SIZE bytes) when errbuf is not NULL. */
void vd_errbuf_set(char *errbuf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
