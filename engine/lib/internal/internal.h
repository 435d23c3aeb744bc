/*
 * internal.h - the one internal API libverdict declares for the verdictd
 * daemon, beyond include/verdict/. Nothing here is exported from
 * libverdict.so: the daemon links the static library.
 *
 * - vd_log / vd_errbuf_set: the library's diagnostics, so that the daemon's
 *   own lines go through the same handler (verdict/log.h) as the library's.
 */
#ifndef VD_INTERNAL_H
#define VD_INTERNAL_H

#include "../core/log.h"

#endif
