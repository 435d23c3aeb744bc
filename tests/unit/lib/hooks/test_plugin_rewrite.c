/*
 * test_plugin_rewrite.c - C plugins that rewrite packets (hook ABI 2,
 * verdict/hook.h), the plugins built for ABI 1 that must still load and
 * run, a future ABI refused; and the example rewriting plugin
 * rules/plugins/patch.c. The plugins call the packet editor, which this
 * binary exports to them as verdictd does (vd_export_plugin_api).
 *
 * Needs VD_TEST_PLUGIN_DIR (tests/unit/lib/hooks/plugins' output) and
 * VD_TEST_PATCH (patch.so) as compile definitions.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "edit_fixture.h"
#include "plugin.h"
#include "plugins/rewriter.h"
#include "rules_fixture.h"

#ifndef VD_TEST_PLUGIN_DIR
#error "define VD_TEST_PLUGIN_DIR: the directory tests/unit/lib/hooks/plugins builds into"
#endif
#ifndef VD_TEST_PATCH
#error "define VD_TEST_PATCH: the path of patch.so"
#endif

#define PLUGIN(name) VD_TEST_PLUGIN_DIR "/" name

static void load(const char *path, const char *symbol, struct vd_plugin_hook *h)
{
	char err[512];

	if (vd_plugin_hook_load(path, symbol, NULL, NULL, h, err, sizeof(err)) != 0)
		fail_msg("loading %s: %s", path, err);
}

/* Edits through the edit it is handed, IPv4 and IPv6, UDP and TCP: every
 * checksum right, and pkt followed the edits inside the plugin (it returns
 * repeat otherwise). */
static void test_abi2_plugin_rewrites(void **state)
{
	struct vd_plugin_hook h;
	struct vt_edit_fixture f;
	struct vd_verdict v;

	(void)state;
	load(PLUGIN("rewriter.so"), "rewrite_eval", &h);
	assert_non_null(h.eval);
	assert_null(h.eval_v1);
	for (int v6 = 0; v6 < 2; v6++) {
		for (int tcp = 0; tcp < 2; tcp++) {
			vt_edit_make_simple(&f, v6 ? 6 : 4, tcp ? IPPROTO_TCP : IPPROTO_UDP, 9);
			vd_packet_edit_prepare(&f.edit, &f.pkt, f.buf, CAPACITY, 0);
			v = vd_plugin_hook_eval(&h, &f.pkt, &f.edit, NULL);
			assert_int_equal(v.kind, VD_VERDICT_ACCEPT);
			assert_true(vd_packet_edit_pending(&f.edit));
			assert_int_equal(f.edit.fields, VD_EDIT_TTL | VD_EDIT_PAYLOAD);
			vt_edit_assert_valid(&f, false);
			assert_int_equal(f.buf[v6 ? 7 : 8], REWRITER_TTL);
			assert_int_equal(f.pkt.payload[0], REWRITER_BYTE);
		}
	}
	/* Without an edit the plugin is told so (it returns repeat). */
	vt_edit_make_simple(&f, 4, IPPROTO_UDP, 9);
	assert_int_equal(vd_plugin_hook_eval(&h, &f.pkt, NULL, NULL).kind, VD_VERDICT_REPEAT);
	assert_int_equal(f.buf[8], 64);
	vd_plugin_hook_unload(&h);
}

/* Drop, and a verdict verdict.h cannot build, discard the edits. */
static void test_drop_or_bad_verdict_discards(void **state)
{
	static const char *const symbols[] = { "rewrite_drop_eval", "rewrite_bad_eval" };
	struct vd_plugin_hook h;
	struct vt_edit_fixture f;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		load(PLUGIN("rewriter.so"), symbols[i], &h);
		vt_edit_make_simple(&f, 4, IPPROTO_UDP, 9);
		vd_plugin_hook_eval(&h, &f.pkt, &f.edit, NULL);
		assert_int_equal(f.edit.fields, VD_EDIT_TTL | VD_EDIT_PAYLOAD);
		assert_false(vd_packet_edit_pending(&f.edit));
		vd_plugin_hook_unload(&h);
	}
}

/* Through a rule table: a refused edit the plugin gives up on is the
 * rule's on_error with edit->reason set (a rewrite error), the edits
 * discarded; where it is not refused the packet is rewritten. */
static void test_refusal_through_a_rule(void **state)
{
	struct vt_edit_fixture f;
	struct vd_ruleset *rs;
	struct vd_verdict v;
	char text[512], why[512];
	bool failed = false;
	int rule;

	(void)state;
	snprintf(text, sizeof(text),
		 "return { rules = { { name = \"p\", on_error = \"drop\", plugin = \"%s\","
		 " symbol = \"rewrite_port_eval\" } } }", PLUGIN("rewriter.so"));
	rs = vt_rules_load(text, why, sizeof(why));
	if (!rs)
		fail_msg("%s", why);
	vt_edit_make_simple(&f, 6, IPPROTO_ICMPV6, 9);
	v = vd_ruleset_eval(rs, 0, &f.pkt, &f.edit, &rule, &failed);
	assert_int_equal(v.kind, VD_VERDICT_DROP);
	assert_true(failed);
	assert_int_equal(f.edit.reason, VD_EDIT_NO_FIELD);
	assert_false(vd_packet_edit_pending(&f.edit));

	vt_edit_make_simple(&f, 6, IPPROTO_UDP, 9);
	v = vd_ruleset_eval(rs, 0, &f.pkt, &f.edit, &rule, &failed);
	assert_int_equal(v.kind, VD_VERDICT_ACCEPT);
	assert_false(failed);
	assert_true(vd_packet_edit_pending(&f.edit));
	assert_int_equal(f.pkt.sport, REWRITER_PORT);
	vt_edit_assert_valid(&f, false);
	vd_ruleset_free(rs);
}

/* A plugin built for hook ABI 1 loads and is called with (pkt, state). */
static void test_abi1_plugin_still_runs(void **state)
{
	struct vd_hook_context ctx = { .rule_name = "v1" };
	struct vd_plugin_hook h;
	struct vt_edit_fixture f;
	struct vd_verdict v;
	void *s = NULL;

	(void)state;
	load(PLUGIN("v1.so"), "v1_eval", &h);
	assert_null(h.eval);
	assert_non_null(h.eval_v1);
	assert_int_equal(h.init(&ctx, &s), 0);
	vt_edit_make_simple(&f, 4, IPPROTO_UDP, 9);
	v = vd_plugin_hook_eval(&h, &f.pkt, &f.edit, s);
	assert_true(vd_verdict_equal(v, vd_verdict_with_mark(vd_verdict_accept(), 0x1000 + 64,
							     ~0u)));
	assert_int_equal(f.edit.fields, 0);
	h.fini(s);
	vd_plugin_hook_unload(&h);
}

static void test_future_abi_refused(void **state)
{
	struct vd_plugin_hook h;
	char err[512];

	(void)state;
	assert_int_equal(vd_plugin_hook_load(PLUGIN("abi3.so"), "abi3_eval", NULL, NULL, &h, err,
					     sizeof(err)),
			 -1);
	assert_null(h.eval);
	assert_null(h.eval_v1);
	if (!strstr(err, PLUGIN("abi3.so") ": built for hook ABI 3, this libverdict has 2 (and "
					    "still loads 1): rebuild it against include/verdict/hook.h"))
		fail_msg("error: %s", err);
}

/* --- the example: rules/plugins/patch.c --- */

struct patch {
	struct vd_plugin_hook h;
	void *state;
};

static int patch_open(struct patch *p, const char *args)
{
	struct vd_hook_context ctx = { .rule_name = "patch", .args = args };

	load(VD_TEST_PATCH, "patch_eval", &p->h);
	p->state = NULL;
	return p->h.init(&ctx, &p->state);
}

static void patch_close(struct patch *p)
{
	if (p->state)
		p->h.fini(p->state);
	vd_plugin_hook_unload(&p->h);
}

/* Runs patch on a packet of version v and protocol proto with payload
 * text; returns the verdict. */
static struct vd_verdict patch_run(struct patch *p, struct vt_edit_fixture *f, int v,
				   uint8_t proto, const char *text)
{
	struct vt_l4 l4 = { .proto = proto, .sport = 1000, .dport = 5000,
			    .tcp_flags = VD_TCP_ACK | VD_TCP_PSH, .payload = text,
			    .payload_len = strlen(text) };

	vt_edit_make(f, v, NULL, NULL, &l4, 0);
	return vd_plugin_hook_eval(&p->h, &f->pkt, &f->edit, p->state);
}

static void test_patch_same_length_every_protocol(void **state)
{
	struct vt_edit_fixture f;
	struct patch p;

	(void)state;
	assert_int_equal(patch_open(&p, "find=PING,replace=PONG"), 0);
	for (int v = 4; v <= 6; v += 2) {
		for (int tcp = 0; tcp < 2; tcp++) {
			uint8_t proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;

			assert_int_equal(patch_run(&p, &f, v, proto, "say PING twice: PING").kind,
					 VD_VERDICT_ACCEPT);
			vt_edit_assert_valid(&f, false);
			assert_memory_equal(f.pkt.payload, "say PONG twice: PING", 20);
			/* No match: accepted untouched. */
			assert_int_equal(patch_run(&p, &f, v, proto, "pong").kind, VD_VERDICT_ACCEPT);
			assert_false(vd_packet_edit_pending(&f.edit));
		}
	}
	patch_close(&p);
}

/* Another length: UDP grows and shrinks; TCP is refused (on_error, with
 * edit->reason set). */
static void test_patch_other_length(void **state)
{
	struct vt_edit_fixture f;
	struct patch p;

	(void)state;
	assert_int_equal(patch_open(&p, "find=cat,replace=a bigger cat"), 0);
	for (int v = 4; v <= 6; v += 2) {
		assert_int_equal(patch_run(&p, &f, v, IPPROTO_UDP, "the cat sat").kind,
				 VD_VERDICT_ACCEPT);
		vt_edit_assert_valid(&f, false);
		assert_int_equal(f.pkt.payload_len, 20);
		assert_memory_equal(f.pkt.payload, "the a bigger cat sat", 20);
		assert_int_not_equal(patch_run(&p, &f, v, IPPROTO_TCP, "the cat sat").kind,
				     VD_VERDICT_ACCEPT);
		assert_int_equal(f.edit.reason, VD_EDIT_TCP_LENGTH);
	}
	patch_close(&p);

	assert_int_equal(patch_open(&p, "find=hex:2D2d,replace="), 0);
	assert_int_equal(patch_run(&p, &f, 4, IPPROTO_UDP, "a--b").kind, VD_VERDICT_ACCEPT);
	vt_edit_assert_valid(&f, false);
	assert_int_equal(f.pkt.payload_len, 2);
	assert_memory_equal(f.pkt.payload, "ab", 2);
	patch_close(&p);
}

static void test_patch_args(void **state)
{
	static const char *const bad[] = {
		NULL, "", "find=x", "replace=y", "find=,replace=y", "find=hex:0,replace=y",
		"find=hex:zz,replace=y", "find=x,replace=y,z=1", "find",
	};
	struct patch p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (patch_open(&p, bad[i]) != -EINVAL)
			fail_msg("args \"%s\" accepted", bad[i] ? bad[i] : "(null)");
		assert_null(p.state);
		patch_close(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abi2_plugin_rewrites),
		cmocka_unit_test(test_drop_or_bad_verdict_discards),
		cmocka_unit_test(test_refusal_through_a_rule),
		cmocka_unit_test(test_abi1_plugin_still_runs),
		cmocka_unit_test(test_future_abi_refused),
		cmocka_unit_test(test_patch_same_length_every_protocol),
		cmocka_unit_test(test_patch_other_length),
		cmocka_unit_test(test_patch_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
