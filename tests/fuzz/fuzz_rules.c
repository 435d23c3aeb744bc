/*
 * fuzz_rules.c - the rules loader (engine/lib/rules, engine/lib/hooks): the
 * input is a rules file, written to a private directory and checked with
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
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <verdict/log.h>
#include <verdict/queue.h> /* VD_ERRBUF_SIZE */
#include <verdict/rules.h>

#include "fuzz_view.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char rules_path[64];
static FILE *summary;

void *dlopen(const char *file, int mode)
{
	(void)file;
	(void)mode;
	return NULL;
}

/* Lua's print and the loader's warnings would flood the fuzzer's output. */
static void quiet(enum vd_log_level level, const char *message, void *user)
{
	(void)level;
	(void)message;
	(void)user;
}

static void cleanup(void)
{
	char dir[sizeof(rules_path)];

	unlink(rules_path);
	snprintf(dir, sizeof(dir), "%s", rules_path);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/vd-fuzz-rules.XXXXXX";

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir)) {
		perror("fuzz_rules: mkdtemp");
		abort();
	}
	snprintf(rules_path, sizeof(rules_path), "%s/rules.lua", dir);
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
