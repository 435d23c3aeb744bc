/*
 * log.h - the library's diagnostics: one line per message, through the
 * handler a program set (verdict/log.h), stderr by default.
 *
 * Library code never exits; it reports and returns. Messages name the thing
 * and the place ("queue 3: ..."), and never the daemon's flags: the library
 * does not know how a program spells its options.
 */
#ifndef VD_LOG_H
#define VD_LOG_H

#include <stdarg.h>

#include <verdict/log.h>

void vd_log(enum vd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Formats into errbuf (VD_ERRBUF_SIZE bytes) when errbuf is not NULL. */
void vd_errbuf_set(char *errbuf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
