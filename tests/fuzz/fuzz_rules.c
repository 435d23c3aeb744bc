/*
 * fuzz_rules.c - the rules loader (engine/lib/rules, engine/lib/hooks): the
 * input is a rules file, written to a private directory ($TMPDIR or /tmp,
 * vd-fuzz-rules.PID) and checked with
 * vd_rules_check as `verdictd --check` does, Lua budgets on (the default
 * instruction and memory limits). A load either succeeds or fails with a
 * message; it must neither crash nor hang (libFuzzer's -timeout reports a
 * run that the budgets let through).
 *
 * Plugins are not loaded: a rules file may name any shared object by an
 * absolute path, and running the constructors of whatever the fuzzer names
 * is not fuzzing the loader. dlopen is replaced below, so the plugin path
 * fails as a missing file does, after plugin.c has searched for it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <verdict/log.h>
#include <verdict/queue.h> /* VD_ERRBUF_SIZE */
#include <verdict/rules.h>

#include "fuzz_view.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char rules_path[PATH_MAX];
static FILE *summary;

void *dlopen(const char *file, int mode)
{
	(void)file;
	(void)mode;
	return NULL;
}

/* $TMPDIR, or /tmp. */
static const char *tmp_dir(void)
{
	const char *t = getenv("TMPDIR");

	return t && *t ? t : "/tmp";
}

/* Lua's print and the loader's warnings would flood the fuzzer's output. */
static void quiet(enum vd_log_level level, const char *message, void *user)
{
	(void)level;
	(void)message;
	(void)user;
}

/* Removes DIR/vd-fuzz-rules.PID/ and its file. */
static void remove_dir(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/rules.lua", dir, name);
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
}

static void cleanup(void)
{
	char name[64];

	snprintf(name, sizeof(name), "vd-fuzz-rules.%d", (int)getpid());
	remove_dir(tmp_dir(), name);
}

/* A crash or a timeout ends the process before atexit: the next run removes
 * what a dead one left behind. */
static void cleanup_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int pid;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (sscanf(e->d_name, "vd-fuzz-rules.%d", &pid) == 1 && pid > 0 &&
		    kill(pid, 0) < 0 && errno == ESRCH)
			remove_dir(dir, e->d_name);
	closedir(d);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = tmp_dir();
	char path[PATH_MAX];

	(void)argc;
	(void)argv;
	cleanup_stale(dir);
	/* Mode 0700, owned by us: a loader that refuses files others can
	 * write (issue 10, item 7) accepts it. */
	snprintf(path, sizeof(path), "%s/vd-fuzz-rules.%d", dir, (int)getpid());
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "fuzz_rules: %s: %s\n", path, strerror(errno));
		abort();
	}
	snprintf(rules_path, sizeof(rules_path), "%s/rules.lua", path);
	summary = fopen("/dev/null", "w");
	if (!summary) {
		perror("fuzz_rules: /dev/null");
		abort();
	}
	vd_log_set_handler(quiet, NULL);
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char errbuf[VD_ERRBUF_SIZE];
	FILE *f = fopen(rules_path, "w");

	if (!f)
		abort();
	if (fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	memset(errbuf, 0, sizeof(errbuf));
	if (vd_rules_check(rules_path, NULL, summary, errbuf) < 0) {
		/* Bad input gets a message, and it fits its buffer. */
		FUZZ_CHECK(errbuf[0] != '\0');
		FUZZ_CHECK(memchr(errbuf, '\0', sizeof(errbuf)) != NULL);
	}
	return 0;
}
