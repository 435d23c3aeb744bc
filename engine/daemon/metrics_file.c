/* metrics_file.c - --metrics-file, rewritten atomically (metrics_file.h). */
#define _GNU_SOURCE /* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "metrics_file.h"

/* Fills err with "--metrics-file PATH: STEP: strerror" and keeps errno. */
static int file_fail(const char *path, const char *step, char *err, size_t errlen)
{
	int saved = errno;

	snprintf(err, errlen, "--metrics-file %s: %s: %s", path, step, strerror(saved));
	errno = saved;
	return -1;
}

/* Writes and syncs the exposition into fd, which it closes. */
static int write_exposition(int fd, const struct vd_stats_snapshot *snap, const char **step)
{
	FILE *f = fdopen(fd, "w");
	int rc = 0;

	*step = "cannot write the temporary file";
	if (!f) {
		close(fd);
		return -1;
	}
	vd_metrics_prometheus(f, snap);
	if (fflush(f) != 0 || ferror(f))
		rc = -1;
	else if (fsync(fileno(f)) < 0)
		rc = -1, *step = "cannot sync the temporary file";
	if (fclose(f) != 0 && rc == 0)
		rc = -1;
	return rc;
}

int vd_metrics_file_write(const char *path, const struct vd_stats_snapshot *snap, char *err,
			  size_t errlen)
{
	size_t len = strlen(path);
	char *tmp = malloc(len + sizeof(".XXXXXX"));
	const char *step = "cannot create a temporary file beside it";
	int fd, saved;

	if (!tmp) {
		errno = ENOMEM;
		return file_fail(path, "out of memory", err, errlen);
	}
	memcpy(tmp, path, len);
	memcpy(tmp + len, ".XXXXXX", sizeof(".XXXXXX"));
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		goto fail_free;
	/* mkostemp makes it 0600: the collector may run as another user. */
	if (fchmod(fd, 0644) < 0) {
		step = "cannot make the temporary file readable";
		close(fd);
		goto fail_unlink;
	}
	if (write_exposition(fd, snap, &step) < 0)
		goto fail_unlink;
	if (rename(tmp, path) < 0) {
		step = "cannot rename the temporary file over it";
		goto fail_unlink;
	}
	free(tmp);
	return 0;
fail_unlink:
	saved = errno;
	unlink(tmp);
	errno = saved;
fail_free:
	free(tmp);
	return file_fail(path, step, err, errlen);
}
