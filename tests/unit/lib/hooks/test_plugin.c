/*
 * test_plugin.c - the plugin loader (engine/plugin.c): finding, refusing and
 * calling plugins; and the synguard example plugin (rules/plugins/synguard.c)
 * through it, fed packets built by helpers.c.
 *
 * Needs VD_TEST_PLUGIN_DIR (where tests/unit/plugins/ is built) and
 * VD_TEST_SYNGUARD (the synguard.so file) as compile definitions.
 */
#define _GNU_SOURCE /* mkdtemp, symlink */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "helpers.h"
#include "plugin.h"
#include "plugins/good.h"
#include "rules_fixture.h"

#ifndef VD_TEST_PLUGIN_DIR
#error "define VD_TEST_PLUGIN_DIR: the directory tests/unit/plugins builds into"
#endif
#ifndef VD_TEST_SYNGUARD
#error "define VD_TEST_SYNGUARD: the path of synguard.so"
#endif

#define PLUGIN(name) VD_TEST_PLUGIN_DIR "/" name

static char err[512];

static void load_ok(const char *path, const char *symbol, const char *base,
		    const char *search, struct vd_plugin_hook *h)
{
	err[0] = '\0';
	if (vd_plugin_hook_load(path, symbol, base, search, h, err, sizeof(err)) != 0)
		fail_msg("loading %s: %s", path, err);
	assert_non_null(h->eval);
	assert_non_null(h->dl);
}

/* Loading must fail with a zeroed hook and an error holding each of the
 * NULL-terminated strings that follow. */
static void load_refused(const char *path, const char *symbol, const char *base,
			 const char *search, ...)
{
	struct vd_plugin_hook h;
	const char *want;
	va_list ap;

	memset(&h, 0xa5, sizeof(h));
	err[0] = '\0';
	assert_int_equal(vd_plugin_hook_load(path, symbol, base, search, &h, err, sizeof(err)), -1);
	assert_null(h.eval);
	assert_null(h.dl);
	assert_null(strchr(err, '\n'));
	va_start(ap, search);
	while ((want = va_arg(ap, const char *)))
		if (!strstr(err, want))
			fail_msg("error \"%s\" lacks \"%s\"", err, want);
	va_end(ap);
}

static struct good_record *good_record_of(const struct vd_plugin_hook *h)
{
	struct good_record *r = dlsym(h->dl, "good_record");

	assert_non_null(r);
	return r;
}

/* A TCP packet from src (IPv4, or IPv6 when it has a ':') with the given
 * flags; at ns (VD_META_TIMESTAMP) unless ns is 0. */
static struct vd_verdict eval_tcp(const struct vd_plugin_hook *h, void *state, const char *src,
				  uint8_t flags, uint64_t ns)
{
	uint8_t buf[VT_PACKET_MAX];
	struct vt_l4 l4 = { .proto = IPPROTO_TCP, .sport = 40000, .dport = 80, .tcp_flags = flags };
	struct vd_packet pkt;
	size_t n = strchr(src, ':')
			   ? vt_ipv6_build(buf, sizeof(buf), &(struct vt_ipv6){ .src = src }, &l4)
			   : vt_ipv4_build(buf, sizeof(buf), &(struct vt_ipv4){ .src = src }, &l4);

	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
	if (ns) {
		pkt.meta |= VD_META_TIMESTAMP;
		pkt.timestamp_ns = ns;
	}
	return vd_plugin_hook_eval(h, &pkt, NULL, state);
}

/* --- the loader --- */

static void test_good_plugin_called_with_its_state(void **unused)
{
	struct vd_hook_context ctx = { .worker = 3, .queue = 7, .rule_name = "r1", .args = "x=1" };
	struct vd_plugin_hook h;
	struct good_record *rec;
	void *s3 = NULL, *s5 = NULL;

	load_ok(PLUGIN("good.so"), "good_eval", NULL, NULL, &h);
	assert_non_null(h.init);
	assert_non_null(h.fini);
	rec = good_record_of(&h);
	assert_int_equal(h.init(&ctx, &s3), 0);
	assert_int_equal(rec->inits, 1);
	assert_int_equal(rec->worker, 3);
	assert_int_equal(rec->queue, 7);
	assert_string_equal(rec->rule_name, "r1");
	assert_string_equal(rec->args, "x=1");
	assert_false(rec->args_null);
	ctx.worker = 5;
	ctx.args = NULL;
	assert_int_equal(h.init(&ctx, &s5), 0);
	assert_true(rec->args_null);

	/* Each worker's eval sees its own state. */
	assert_int_equal(eval_tcp(&h, s3, "192.0.2.1", VD_TCP_ACK, 0).mark, GOOD_MARK(3, 1));
	assert_int_equal(eval_tcp(&h, s3, "192.0.2.1", VD_TCP_ACK, 0).mark, GOOD_MARK(3, 2));
	assert_int_equal(eval_tcp(&h, s5, "192.0.2.1", VD_TCP_ACK, 0).mark, GOOD_MARK(5, 1));
	h.fini(s3);
	assert_int_equal(rec->finis, 1);
	assert_int_equal(rec->fini_worker, 3);
	assert_int_equal(rec->fini_evals, 2);
	h.fini(s5);
	assert_int_equal(rec->fini_worker, 5);
	vd_plugin_hook_unload(&h);
	assert_null(h.dl);
	assert_null(h.eval);
	vd_plugin_hook_unload(&h); /* twice, and on a zeroed struct: no-op */
}

/* Through a rule table, as the daemon runs plugins: the verdict a plugin
 * returns is the rule's, queue and mark included; one the kernel would not
 * know is a hook error that gives the rule's on_error. */
static struct vd_verdict rule_eval(const char *symbol, bool *failed)
{
	char text[512], why[512];
	struct vd_ruleset *rs;
	struct vd_verdict v;
	int rule;

	snprintf(text, sizeof(text),
		 "return { default = \"accept\", rules = { { name = \"p\", on_error = \"drop\","
		 " plugin = \"%s\", symbol = \"%s\" } } }", PLUGIN("good.so"), symbol);
	rs = vt_rules_load(text, why, sizeof(why));
	if (!rs)
		fail_msg("%s", why);
	v = vd_ruleset_eval(rs, 0, vt_packet(&(struct vt_packet_spec){ .version = 4,
								       .proto = IPPROTO_UDP }),
			    NULL, &rule, failed);
	assert_int_equal(rule, 0);
	vd_ruleset_free(rs);
	return v;
}

static void test_plugin_verdicts_through_a_rule(void **unused)
{
	struct vd_verdict want = vd_verdict_with_mark(vd_verdict_queue(GOOD_REQUEUE_TO, true),
						      GOOD_REQUEUE_MARK, GOOD_REQUEUE_MARK);
	bool failed = true;

	assert_true(vd_verdict_equal(rule_eval("requeue_eval", &failed), want));
	assert_false(failed);
	assert_true(vd_verdict_equal(rule_eval("bad_kind_eval", &failed), vd_verdict_drop()));
	assert_true(failed);
	failed = false;
	assert_true(vd_verdict_equal(rule_eval("bad_flags_eval", &failed), vd_verdict_drop()));
	assert_true(failed);
	/* Reject and connection verdicts, as verdict.h builds them, pass. */
	assert_true(vd_verdict_equal(rule_eval("reject_eval", &failed),
				     vd_verdict_reject(VD_REJECT_TCP_RESET)));
	assert_false(failed);
	assert_true(vd_verdict_equal(rule_eval("bypass_eval", &failed), vd_verdict_connection(
					     vd_verdict_with_mark(vd_verdict_drop(), 0x40, 0xf0))));
	assert_false(failed);
	assert_true(vd_verdict_equal(rule_eval("bad_connection_eval", &failed), vd_verdict_drop()));
	assert_true(failed);
	failed = false;
	assert_true(vd_verdict_equal(rule_eval("bad_reject_eval", &failed), vd_verdict_drop()));
	assert_true(failed);
}

static void test_init_error_is_returned(void **unused)
{
	struct vd_hook_context ctx = { .rule_name = "r", .args = "fail" };
	struct vd_plugin_hook h;
	void *state = NULL;

	load_ok(PLUGIN("good.so"), "good_eval", NULL, NULL, &h);
	assert_int_equal(h.init(&ctx, &state), -EINVAL);
	assert_null(state);
	vd_plugin_hook_unload(&h);
}

static void test_init_fini_names_follow_the_symbol(void **unused)
{
	struct vd_plugin_hook h;

	/* No "_eval" suffix: "plain" + "_init". */
	load_ok(PLUGIN("good.so"), "plain", NULL, NULL, &h);
	assert_ptr_equal((void *)h.init, dlsym(h.dl, "plain_init"));
	assert_ptr_equal((void *)h.fini, dlsym(h.dl, "plain_fini"));
	assert_int_equal(eval_tcp(&h, NULL, "192.0.2.1", 0, 0).kind, VD_VERDICT_DROP);
	vd_plugin_hook_unload(&h);

	/* Neither exists: both optional. */
	load_ok(PLUGIN("good.so"), "bare_eval", NULL, NULL, &h);
	assert_null(h.init);
	assert_null(h.fini);
	assert_int_equal(eval_tcp(&h, NULL, "192.0.2.1", 0, 0).kind, VD_VERDICT_REPEAT);
	vd_plugin_hook_unload(&h);
}

static void test_abi_mismatch_refused(void **unused)
{
	load_refused(PLUGIN("bad_abi.so"), "bad_abi_eval", NULL, NULL, PLUGIN("bad_abi.so"),
		     "built for hook ABI 7, this libverdict has 2 (and still loads 1): rebuild it "
		     "against include/verdict/hook.h",
		     NULL);
}

static void test_no_abi_symbol_refused(void **unused)
{
	load_refused(PLUGIN("no_abi.so"), "no_abi_eval", NULL, NULL, PLUGIN("no_abi.so"),
		     "not a libverdict hook plugin: no vd_hook_abi_version symbol", NULL);
}

static void test_missing_file_names_where_it_looked(void **unused)
{
	load_refused("nope.so", "x_eval", "/nonexistent-base", "/nonexistent-a::/nonexistent-b",
		     "nope.so: not found in /nonexistent-base, /nonexistent-a, /nonexistent-b",
		     NULL);
	/* An absolute path is looked for nowhere else. */
	load_refused("/nonexistent/good.so", "good_eval", VD_TEST_PLUGIN_DIR, VD_TEST_PLUGIN_DIR,
		     "/nonexistent/good.so: not found (looked for /nonexistent/good.so)", NULL);
	load_refused("", "x_eval", NULL, NULL, "empty plugin path", NULL);
}

static void test_missing_symbol_refused(void **unused)
{
	load_refused(PLUGIN("good.so"), "nothere_eval", NULL, NULL, PLUGIN("good.so"),
		     "no symbol \"nothere_eval\"", NULL);
	/* dlsym would find libc's: only the plugin's own definitions count. */
	load_refused(PLUGIN("good.so"), "printf", NULL, NULL,
		     "symbol \"printf\" is not defined in the plugin", NULL);
	load_refused(PLUGIN("good.so"), "", NULL, NULL, "bad symbol name", NULL);
}

static void test_dlopen_error_passed_on(void **unused)
{
	char dir[] = "/tmp/vd-test-plugin-XXXXXX", junk[PATH_MAX];
	FILE *f;

	load_refused(PLUGIN("needs_lib.so"), "needs_lib_eval", NULL, NULL,
		     "undefined symbol: vd_packet_parse", NULL);
	assert_non_null(mkdtemp(dir));
	snprintf(junk, sizeof(junk), "%s/junk.so", dir);
	f = fopen(junk, "w");
	assert_non_null(f);
	fprintf(f, "%0200d\n", 0);
	fclose(f);
	load_refused("junk.so", "x_eval", dir, NULL, junk, NULL);
	unlink(junk);
	rmdir(dir);
}

static void test_found_beside_the_rules_or_in_the_search_path(void **unused)
{
	struct vd_plugin_hook h;

	load_ok("good.so", "good_eval", VD_TEST_PLUGIN_DIR, NULL, &h);
	vd_plugin_hook_unload(&h);
	load_ok("good.so", "good_eval", "/nonexistent", "/nonexistent-a::" VD_TEST_PLUGIN_DIR, &h);
	vd_plugin_hook_unload(&h);
}

/* The rules file's directory wins over the search path, and the current
 * directory is not searched: a "good.so" that is really bad_abi.so tells
 * which was used. */
static void test_search_order(void **unused)
{
	char dir[] = "/tmp/vd-test-plugin-XXXXXX", decoy[PATH_MAX], cwd[PATH_MAX];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_non_null(mkdtemp(dir));
	snprintf(decoy, sizeof(decoy), "%s/good.so", dir);
	assert_int_equal(symlink(PLUGIN("bad_abi.so"), decoy), 0);

	assert_int_equal(chdir(VD_TEST_PLUGIN_DIR), 0);
	load_refused("good.so", "good_eval", dir, NULL, "built for hook ABI 7", NULL);
	assert_int_equal(chdir(cwd), 0);
	load_refused("good.so", "good_eval", dir, VD_TEST_PLUGIN_DIR, "built for hook ABI 7", NULL);

	unlink(decoy);
	rmdir(dir);
}

/* --- synguard --- */

#define MS 1000000ull
#define T0 (1000 * MS)

struct synguard {
	struct vd_plugin_hook h;
	void *state;
};

static int synguard_open(struct synguard *g, const char *args)
{
	struct vd_hook_context ctx = { .worker = 0, .queue = 1, .rule_name = "syn", .args = args };

	load_ok(VD_TEST_SYNGUARD, "synguard_eval", NULL, NULL, &g->h);
	assert_non_null(g->h.init);
	assert_non_null(g->h.fini);
	g->state = NULL;
	return g->h.init(&ctx, &g->state);
}

static void synguard_close(struct synguard *g)
{
	if (g->state)
		g->h.fini(g->state);
	vd_plugin_hook_unload(&g->h);
}

static uint8_t syn(struct synguard *g, const char *src, uint64_t ns)
{
	return eval_tcp(&g->h, g->state, src, VD_TCP_SYN, ns).kind;
}

static void test_synguard_drops_one_source_beyond_its_burst(void **unused)
{
	struct synguard g;

	assert_int_equal(synguard_open(&g, "rate=10,burst=3,clock=packet"), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(syn(&g, "192.0.2.1", T0), VD_VERDICT_ACCEPT);
	assert_int_equal(syn(&g, "192.0.2.1", T0), VD_VERDICT_DROP);
	assert_int_equal(syn(&g, "192.0.2.1", T0), VD_VERDICT_DROP);
	/* Other sources, and everything but a bare SYN, pass. */
	assert_int_equal(syn(&g, "192.0.2.2", T0), VD_VERDICT_ACCEPT);
	assert_int_equal(eval_tcp(&g.h, g.state, "192.0.2.1", VD_TCP_SYN | VD_TCP_ACK, T0).kind,
			 VD_VERDICT_ACCEPT);
	assert_int_equal(eval_tcp(&g.h, g.state, "192.0.2.1", VD_TCP_ACK, T0).kind,
			 VD_VERDICT_ACCEPT);
	assert_int_equal(eval_tcp(&g.h, g.state, "192.0.2.1", VD_TCP_RST, T0).kind,
			 VD_VERDICT_ACCEPT);
	assert_int_equal(syn(&g, "192.0.2.1", T0), VD_VERDICT_DROP);
	synguard_close(&g);
}

static void test_synguard_refills_with_time(void **unused)
{
	struct synguard g;

	assert_int_equal(synguard_open(&g, "rate=10,burst=3,clock=packet"), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(syn(&g, "192.0.2.1", T0), VD_VERDICT_ACCEPT);
	assert_int_equal(syn(&g, "192.0.2.1", T0 + 99 * MS), VD_VERDICT_DROP);
	/* One SYN's worth (1 s / rate) later, exactly one more. */
	assert_int_equal(syn(&g, "192.0.2.1", T0 + 100 * MS), VD_VERDICT_ACCEPT);
	assert_int_equal(syn(&g, "192.0.2.1", T0 + 100 * MS), VD_VERDICT_DROP);
	/* No timestamp: counted at the latest one seen. */
	assert_int_equal(syn(&g, "192.0.2.1", 0), VD_VERDICT_DROP);
	/* A long pause refills to the burst, not beyond. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(syn(&g, "192.0.2.1", T0 + 60000 * MS), VD_VERDICT_ACCEPT);
	assert_int_equal(syn(&g, "192.0.2.1", T0 + 60000 * MS), VD_VERDICT_DROP);
	/* Time going back (a clock step) does not refill anything. */
	assert_int_equal(syn(&g, "192.0.2.1", T0), VD_VERDICT_DROP);
	synguard_close(&g);
}

static void test_synguard_ipv6_sources(void **unused)
{
	struct synguard g;

	assert_int_equal(synguard_open(&g, "rate=1,burst=2,clock=packet"), 0);
	assert_int_equal(syn(&g, "2001:db8::1", T0), VD_VERDICT_ACCEPT);
	assert_int_equal(syn(&g, "2001:db8::1", T0), VD_VERDICT_ACCEPT);
	assert_int_equal(syn(&g, "2001:db8::1", T0), VD_VERDICT_DROP);
	assert_int_equal(syn(&g, "2001:db8::2", T0), VD_VERDICT_ACCEPT);
	/* Same first four bytes as an IPv4 source: still another source. */
	assert_int_equal(syn(&g, "32.1.13.184", T0), VD_VERDICT_ACCEPT);
	synguard_close(&g);

	/* Per /64: a host cannot dodge the limit by changing its interface id. */
	assert_int_equal(synguard_open(&g, "rate=1,burst=2,v6_prefix=64,clock=packet"), 0);
	assert_int_equal(syn(&g, "2001:db8::1", T0), VD_VERDICT_ACCEPT);
	assert_int_equal(syn(&g, "2001:db8::2", T0), VD_VERDICT_ACCEPT);
	assert_int_equal(syn(&g, "2001:db8::3", T0), VD_VERDICT_DROP);
	assert_int_equal(syn(&g, "2001:db8:0:1::1", T0), VD_VERDICT_ACCEPT);
	synguard_close(&g);
}

static void test_synguard_full_table_takes_new_sources(void **unused)
{
	struct synguard g;
	char src[32];

	assert_int_equal(synguard_open(&g, "rate=1,burst=1,slots=16,clock=packet"), 0);
	for (int i = 0; i < 200; i++) {
		snprintf(src, sizeof(src), "10.0.%d.%d", i / 250, i % 250 + 1);
		assert_int_equal(syn(&g, src, T0), VD_VERDICT_ACCEPT);
	}
	/* The latest source was just counted: its second SYN is over the limit. */
	assert_int_equal(syn(&g, src, T0), VD_VERDICT_DROP);
	synguard_close(&g);
}

static void test_synguard_monotonic_clock_by_default(void **unused)
{
	struct synguard g;

	assert_int_equal(synguard_open(&g, "rate=1,burst=2"), 0);
	/* Timestamps are ignored: these three come within far less than 1 s. */
	assert_int_equal(syn(&g, "192.0.2.1", T0), VD_VERDICT_ACCEPT);
	assert_int_equal(syn(&g, "192.0.2.1", T0 + 60000 * MS), VD_VERDICT_ACCEPT);
	assert_int_equal(syn(&g, "192.0.2.1", 0), VD_VERDICT_DROP);
	synguard_close(&g);
}

static void test_synguard_args(void **unused)
{
	static const char *const bad[] = {
		"rate=0", "rate=abc", "rate=", "burst=1000001", "rat=5", "clock=wall",
		"rate=10,,burst=1", "slots=8", "v6_prefix=129", "rate", "rate=99999999999",
	};
	static const char *const good[] = { NULL, "", "rate=5,", "slots=100,clock=monotonic" };
	struct synguard g;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (synguard_open(&g, bad[i]) != -EINVAL)
			fail_msg("args \"%s\" accepted", bad[i]);
		assert_null(g.state);
		synguard_close(&g);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (synguard_open(&g, good[i]) != 0)
			fail_msg("args \"%s\" refused", good[i] ? good[i] : "(null)");
		assert_int_equal(syn(&g, "192.0.2.1", 0), VD_VERDICT_ACCEPT);
		synguard_close(&g);
	}
}

/* --- where a relative plugin path is looked for --- */

/* Makes a temporary directory in dir (a mkdtemp template) holding a link
 * named name to target, when target is not NULL. */
static void dir_with_plugin(char *dir, const char *name, const char *target)
{
	char link[PATH_MAX];

	assert_non_null(mkdtemp(dir));
	if (!target)
		return;
	snprintf(link, sizeof(link), "%s/%s", dir, name);
	assert_int_equal(symlink(target, link), 0);
}

static void dir_remove(const char *dir, const char *name)
{
	char link[PATH_MAX];

	snprintf(link, sizeof(link), "%s/%s", dir, name);
	unlink(link);
	assert_int_equal(rmdir(dir), 0);
}

/* A plugin in the current directory, named like the one the rules file names,
 * is not loaded: the rules file lives elsewhere and the plugin is neither
 * beside it nor on the plugin path. The error lists where it looked. */
static void test_current_directory_is_not_searched(void **unused)
{
	char cwd_dir[] = "/tmp/vd-test-plugin-cwd-XXXXXX";
	char rules_dir[] = "/tmp/vd-test-plugin-rules-XXXXXX";
	char path_dir[] = "/tmp/vd-test-plugin-path-XXXXXX";
	char cwd[PATH_MAX], want[PATH_MAX * 3], search[PATH_MAX * 2];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	dir_with_plugin(cwd_dir, "good.so", PLUGIN("good.so"));
	dir_with_plugin(rules_dir, "good.so", NULL);
	dir_with_plugin(path_dir, "good.so", NULL);
	snprintf(search, sizeof(search), "%s:/nonexistent-b", path_dir);
	snprintf(want, sizeof(want), "good.so: not found in %s, %s, /nonexistent-b", rules_dir,
		 path_dir);
	assert_int_equal(chdir(cwd_dir), 0);

	load_refused("good.so", "good_eval", rules_dir, search, want,
		     "not in the current directory", NULL);
	if (strstr(err, cwd_dir) || strstr(err, "./"))
		fail_msg("error \"%s\" names the current directory", err);
	/* Not with a "./" either, nor with no directory at all. */
	load_refused("./good.so", "good_eval", rules_dir, search, "./good.so: not found in ", NULL);
	load_refused("good.so", "good_eval", NULL, NULL, "good.so: not found in any directory",
		     NULL);

	assert_int_equal(chdir(cwd), 0);
	dir_remove(cwd_dir, "good.so");
	dir_remove(rules_dir, "good.so");
	dir_remove(path_dir, "good.so");
}

/* Beside the rules file, then on the plugin path, whatever the current
 * directory holds: a "good.so" that is really bad_abi.so tells which was used. */
static void test_rules_dir_then_plugin_path_whatever_the_cwd(void **unused)
{
	char cwd_dir[] = "/tmp/vd-test-plugin-cwd-XXXXXX";
	char decoy_dir[] = "/tmp/vd-test-plugin-decoy-XXXXXX";
	char empty_dir[] = "/tmp/vd-test-plugin-empty-XXXXXX";
	char cwd[PATH_MAX], search[PATH_MAX * 2];
	struct vd_plugin_hook h;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	dir_with_plugin(cwd_dir, "good.so", PLUGIN("bad_abi.so"));
	dir_with_plugin(decoy_dir, "good.so", PLUGIN("bad_abi.so"));
	dir_with_plugin(empty_dir, "good.so", NULL);
	assert_int_equal(chdir(cwd_dir), 0);

	/* The rules file's directory. */
	load_ok("good.so", "good_eval", VD_TEST_PLUGIN_DIR, NULL, &h);
	vd_plugin_hook_unload(&h);
	/* The plugin path, after a rules directory without it. */
	snprintf(search, sizeof(search), "/nonexistent-a::%s", VD_TEST_PLUGIN_DIR);
	load_ok("good.so", "good_eval", empty_dir, search, &h);
	vd_plugin_hook_unload(&h);
	/* The rules file's directory wins over the plugin path... */
	load_refused("good.so", "good_eval", decoy_dir, VD_TEST_PLUGIN_DIR, decoy_dir,
		     "built for hook ABI 7", NULL);
	/* ...and the first plugin path directory that has it over the later ones. */
	snprintf(search, sizeof(search), "%s:%s", VD_TEST_PLUGIN_DIR, decoy_dir);
	load_ok("good.so", "good_eval", empty_dir, search, &h);
	vd_plugin_hook_unload(&h);
	/* A rules file in the current directory ("." from dirname) finds it there. */
	load_refused("good.so", "good_eval", ".", VD_TEST_PLUGIN_DIR, "./good.so",
		     "built for hook ABI 7", NULL);

	assert_int_equal(chdir(cwd), 0);
	dir_remove(cwd_dir, "good.so");
	dir_remove(decoy_dir, "good.so");
	dir_remove(empty_dir, "good.so");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_plugin_called_with_its_state),
		cmocka_unit_test(test_plugin_verdicts_through_a_rule),
		cmocka_unit_test(test_init_error_is_returned),
		cmocka_unit_test(test_init_fini_names_follow_the_symbol),
		cmocka_unit_test(test_abi_mismatch_refused),
		cmocka_unit_test(test_no_abi_symbol_refused),
		cmocka_unit_test(test_missing_file_names_where_it_looked),
		cmocka_unit_test(test_missing_symbol_refused),
		cmocka_unit_test(test_dlopen_error_passed_on),
		cmocka_unit_test(test_found_beside_the_rules_or_in_the_search_path),
		cmocka_unit_test(test_search_order),
		cmocka_unit_test(test_synguard_drops_one_source_beyond_its_burst),
		cmocka_unit_test(test_synguard_refills_with_time),
		cmocka_unit_test(test_synguard_ipv6_sources),
		cmocka_unit_test(test_synguard_full_table_takes_new_sources),
		cmocka_unit_test(test_synguard_monotonic_clock_by_default),
		cmocka_unit_test(test_synguard_args),
		cmocka_unit_test(test_current_directory_is_not_searched),
		cmocka_unit_test(test_rules_dir_then_plugin_path_whatever_the_cwd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
