/* rewrite_fixture.c - see rewrite_fixture.h. Built on lua_fixture.c (the
 * state, its log). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "lua_fixture.h"
#include "rewrite_fixture.h"

struct vd_verdict vt_rewrite_on_error(void)
{
	return vd_verdict_with_mark(vd_verdict_drop(), 0xdead, 0xffff);
}

uint8_t vt_rewrite_proto(int v, unsigned i)
{
	static const uint8_t protos[VT_REWRITE_PROTOS] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP };

	return protos[i] == IPPROTO_ICMP && v == 6 ? IPPROTO_ICMPV6 : protos[i];
}

void vt_rewrite_run(struct vt_edit_fixture *f, bool writable, const char *body,
		    struct vt_rewrite_run *r)
{
	char text[4096];
	int ref;

	/* A fresh state each time: a state logs one hook error a second. */
	vd_lua_close(vt_lua);
	snprintf(text, sizeof(text), "return { f = function(pkt)\n%s\nend }\n", body);
	if (vt_lua_load(text, NULL) != 0)
		fail_msg("load: %s", vt_lua_err);
	ref = vt_lua_ref("f");
	vt_lua_log_clear();
	memset(r, 0, sizeof(*r));
	r->verdict = vd_lua_call(vt_lua, ref, "f", &f->pkt, writable ? &f->edit : NULL,
				 vt_rewrite_on_error(), &r->failed);
	snprintf(r->log, sizeof(r->log), "%s", vt_lua_log);
}

void vt_rewrite_ok(struct vt_edit_fixture *f, const char *body)
{
	struct vt_rewrite_run r;

	vt_rewrite_run(f, true, body, &r);
	if (r.failed || r.verdict.kind != VD_VERDICT_ACCEPT)
		fail_msg("hook failed: %s(body: %s)", r.log, body);
}

void vt_rewrite_fails(struct vt_edit_fixture *f, const char *body, uint8_t reason,
		      const char *want)
{
	struct vt_rewrite_run r;

	vt_rewrite_run(f, true, body, &r);
	if (!r.failed || !strstr(r.log, want))
		fail_msg("want a failure logging \"%s\", got failed=%d log \"%s\" (body: %s)", want,
			 r.failed, r.log, body);
	assert_true(vd_verdict_equal(r.verdict, vt_rewrite_on_error()));
	if (f->edit.reason != reason)
		fail_msg("edit reason %u, want %u (body: %s)", f->edit.reason, reason, body);
	assert_false(vd_packet_edit_pending(&f->edit));
}
