/*
 * fuzz_rules.c - the rules loader (engine/lib/rules, engine/lib/hooks): the
 * input is a rules file, written to a private directory ($TMPDIR or /tmp,
 * vd-fuzz-rules.PID) and checked with vd_rules_check_config as
 * `verdictd --check` does, Lua budgets on. A load either succeeds or fails
 * with a message; it must neither crash nor hang (libFuzzer's -timeout, 10 s
 * in scripts/fuzz.sh and ctest, reports a run that the budgets let through).
 *
 * The budgets are smaller than the defaults (fuzz_limits below): with
 * 200,000,000 instructions and 10 s per load, every mutant of a seed that
 * loops ran half a second (a backtracking pattern under ASan, the whole
 * 10 s), and the target managed some 60 to 160 inputs a second. The small
 * budgets run the same code, the exhaustion paths included, and reach them
 * sooner.
 * The file stays open between inputs and is overwritten in place: opening
 * it with O_TRUNC made ext4 flush it at every close (auto_da_alloc), a tenth
 * of the target's time. The loader still opens and reads it each time.
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
#include <fcntl.h>
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
static int rules_fd = -1;
static FILE *summary;

/* Each budget is still reached on its own path: instructions by a loop,
 * time by instructions that each do much (concatenating megabyte strings),
 * memory by a big string or table. What costs is the inputs that spend the
 * whole instruction budget in charged C functions (pattern matching,
 * string.rep): about 100 ns a charged step under ASan, 10 ms at 100,000;
 * they were most of the target's time at 500,000. Every shipped rules file
 * loads in under 50,000, and a set of 5,000 prefixes built in a loop in
 * under 100,000 (corpus/rules/big-set-loop-20k.lua, 20,000 of them, now
 * ends on the budget, as big-set-loop.lua does).
 * 1,000 ms is ten times what a budget-bound seed takes under ASan on a busy
 * VM, and a tenth of libFuzzer's -timeout (10 s), so that a timeout still
 * means a load the budgets failed to stop. */
static const struct vd_rules_config fuzz_limits = {
	.lua_load_instructions = 100000,
	.lua_load_ms = 1000,
	.lua_memory = (size_t)16 << 20,
};

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
	rules_fd = open(rules_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (rules_fd < 0) {
		fprintf(stderr, "fuzz_rules: %s: %s\n", rules_path, strerror(errno));
		abort();
	}
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
	struct vd_rules_config cfg = fuzz_limits;
	size_t done = 0;

	while (done < size) {
		ssize_t n = pwrite(rules_fd, data + done, size - done, (off_t)done);

		if (n <= 0)
			abort();
		done += (size_t)n;
	}
	if (ftruncate(rules_fd, (off_t)size) < 0)
		abort();
	memset(errbuf, 0, sizeof(errbuf));
	cfg.path = rules_path;
	if (vd_rules_check_config(&cfg, summary, errbuf) < 0) {
		/* Bad input gets a message, and it fits its buffer. */
		FUZZ_CHECK(errbuf[0] != '\0');
		FUZZ_CHECK(memchr(errbuf, '\0', sizeof(errbuf)) != NULL);
	}
	return 0;
}
