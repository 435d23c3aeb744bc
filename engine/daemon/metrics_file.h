/*
 * metrics_file.h - --metrics-file PATH: the Prometheus exposition of a
 * stats snapshot, replaced atomically, for node_exporter's textfile
 * collector (which reads *.prom files of a directory at each scrape).
 */
#ifndef VD_METRICS_FILE_H
#define VD_METRICS_FILE_H

#include <stddef.h>

#include "metrics_table.h"

/* Without --stats-interval, how often --metrics-file is rewritten. */
#define VD_METRICS_FILE_DEFAULT_INTERVAL_S 10.0

/* Writes snap's exposition to a new file beside path ("PATH.XXXXXX": a
 * name the collector ignores), mode 0644, flushed to the disk (fsync), then
 * renamed over path: a reader sees the old file or the new one, whole, never
 * a part. Returns 0, or -1 with errno set and one line in err naming the
 * path and the step that failed (the temporary file is then removed). */
int vd_metrics_file_write(const char *path, const struct vd_stats_snapshot *snap, char *err,
			  size_t errlen);

#endif
