/*
 * test_file_trust.c - running as root, libverdict refuses rules files and
 * plugins that a user other than root could change, before any of their
 * code runs: a world-writable plugin's constructor never runs, even under
 * --check (vd_rules_check). Skipped when not run as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <verdict/queue.h>
#include <verdict/rules.h>

#include "file_trust.h"
#include "plugin.h"

#ifndef VD_TEST_PLUGIN_DIR
#error "define VD_TEST_PLUGIN_DIR: the directory the test plugins are built into"
#endif

struct fixture {
	char dir[64];   /* root-owned, 0700 */
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/vd-test-trust-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static const char *make(struct fixture *f, const char *name, const char *text, mode_t mode)
{
	FILE *out;

	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	out = fopen(f->path, "w");
	assert_non_null(out);
	fputs(text, out);
	fclose(out);
	assert_int_equal(chmod(f->path, mode), 0);
	return f->path;
}

static void refused(const char *path, const char *why)
{
	char err[512] = "";

	assert_int_equal(vd_file_trust_check(path, "rules file", err, sizeof(err)), -1);
	assert_int_equal(errno, EPERM);
	if (!strstr(err, why) || !strstr(err, "refused while running as root"))
		fail_msg("message \"%s\" lacks \"%s\"", err, why);
}

static void test_safe_files_pass(void **state)
{
	struct fixture *f = *state;
	char err[512] = "";

	assert_int_equal(vd_file_trust_check(make(f, "ok.lua", "return {}", 0644), "rules file",
					     err, sizeof(err)), 0);
	/* Group-writable is fine when the group is root's. */
	assert_int_equal(vd_file_trust_check(make(f, "g0.lua", "return {}", 0664), "rules file",
					     err, sizeof(err)), 0);
}

static void test_writable_or_foreign_files_are_refused(void **state)
{
	struct fixture *f = *state;

	refused(make(f, "world.lua", "return {}", 0666), "writable by everyone");
	make(f, "group.lua", "return {}", 0664);
	assert_int_equal(chown(f->path, 0, 65534), 0);
	refused(f->path, "writable by its group");
	make(f, "nobody.lua", "return {}", 0644);
	assert_int_equal(chown(f->path, 65534, 0), 0);
	refused(f->path, "owned by a user other than root");
}

static void test_directories_on_the_path_count(void **state)
{
	struct fixture *f = *state;
	char sub[128], file[160], link[160];

	snprintf(sub, sizeof(sub), "%s/open", f->dir);
	assert_int_equal(mkdir(sub, 0777), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	snprintf(file, sizeof(file), "%s/r.lua", sub);
	{
		FILE *out = fopen(file, "w");
		assert_non_null(out);
		fclose(out);
		assert_int_equal(chmod(file, 0644), 0);
	}
	refused(file, "open is writable by everyone");
	/* Sticky, like /tmp: others cannot replace root's entries. */
	assert_int_equal(chmod(sub, 01777), 0);
	assert_int_equal(vd_file_trust_check(file, "rules file", NULL, 0), 0);
	/* A link is judged by what it leads to. */
	assert_int_equal(chmod(sub, 0777), 0);
	snprintf(link, sizeof(link), "%s/link.lua", f->dir);
	assert_int_equal(symlink(file, link), 0);
	refused(link, "writable by everyone");
}

/* The case: a world-writable rules file naming a plugin, checked
 * as root. Neither the file's Lua nor the plugin's constructor may run. */
static void test_world_writable_plugin_never_runs(void **state)
{
	struct fixture *f = *state;
	char plugin[160], mark[160], rules[512], err[VD_ERRBUF_SIZE] = "", cmd[400];
	struct vd_plugin_hook h;

	snprintf(plugin, sizeof(plugin), "%s/ctor_marker.so", f->dir);
	snprintf(mark, sizeof(mark), "%s/constructor-ran", f->dir);
	snprintf(cmd, sizeof(cmd), "cp '%s/ctor_marker.so' '%s'", VD_TEST_PLUGIN_DIR, plugin);
	assert_int_equal(system(cmd), 0);
	setenv("VD_TEST_CTOR_MARK", mark, 1);

	assert_int_equal(chmod(plugin, 0666), 0);
	assert_int_equal(vd_plugin_hook_load(plugin, "marker_eval", NULL, NULL, &h, err,
					     sizeof(err)), -1);
	assert_non_null(strstr(err, "plugin"));
	assert_non_null(strstr(err, "writable by everyone"));
	assert_int_equal(access(mark, F_OK), -1);

	snprintf(rules, sizeof(rules),
		 "return { rules = { { name = \"p\", plugin = \"%s\", symbol = \"marker_eval\" } } }",
		 plugin);
	make(f, "rules.lua", rules, 0644);
	assert_int_equal(vd_rules_check(f->path, NULL, stdout, err), -1);
	assert_non_null(strstr(err, "writable by everyone"));
	assert_int_equal(access(mark, F_OK), -1);

	/* Made safe, the same plugin loads (and its constructor runs). */
	assert_int_equal(chmod(plugin, 0644), 0);
	assert_int_equal(vd_rules_check(f->path, NULL, stdout, err), 0);
	assert_int_equal(access(mark, F_OK), 0);
	unsetenv("VD_TEST_CTOR_MARK");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_safe_files_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writable_or_foreign_files_are_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_directories_on_the_path_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_world_writable_plugin_never_runs, setup,
						teardown),
	};

	if (geteuid() != 0) {
		printf("SKIP: the checks apply to root only\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
