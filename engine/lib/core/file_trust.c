/* file_trust.c - refuse files a non-root user can change (file_trust.h). */
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_trust.h"
#include "privilege.h"

/* NULL when path (the file itself when is_file) is safe, else why not. */
static const char *unsafe(const char *path, bool is_file, struct stat *st)
{
	if (stat(path, st) < 0)
		return strerror(errno);
	/* Root's or the process's own user's (after verdictd --user). */
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return "owned by a user other than root";
	if (!is_file && (st->st_mode & S_ISVTX) && (st->st_mode & S_IWOTH))
		return NULL; /* sticky: others cannot replace root's entries */
	if (st->st_mode & S_IWOTH)
		return "writable by everyone";
	if ((st->st_mode & S_IWGRP) && st->st_gid != 0)
		return "writable by its group";
	return NULL;
}

int vd_file_trust_check(const char *path, const char *what, char *err, size_t errlen)
{
	char real[PATH_MAX];
	struct stat st;
	const char *why;
	char *slash;

	/* Without root or CAP_NET_ADMIN there is nothing to take over. */
	if (geteuid() != 0 && !vd_privilege_has_net_admin())
		return 0;
	/* A file that cannot be resolved cannot be loaded either: the loader
	 * says why, in its own words. */
	if (!realpath(path, real))
		return 0;
	/* The file, then each directory up to the root. */
	why = unsafe(real, true, &st);
	if (!why && !S_ISREG(st.st_mode))
		why = "not a regular file";
	while (!why && (slash = strrchr(real, '/')) != NULL) {
		if (slash == real) {
			why = unsafe("/", false, &st);
			if (why)
				snprintf(real, sizeof(real), "/");
			break;
		}
		*slash = '\0';
		why = unsafe(real, false, &st);
	}
	if (!why)
		return 0;
	snprintf(err, errlen, "%s %s: refused while running %s: %s%s is %s (a user other "
		 "than root could change what runs; fix with chown root and chmod go-w)",
		 what, path, geteuid() == 0 ? "as root" : "with CAP_NET_ADMIN",
		 strcmp(real, path) ? "its path " : "", real, why);
	errno = EPERM;
	return -1;
}
