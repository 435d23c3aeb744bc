/* rewrite_fixture.h - Lua hooks that rewrite packets: a hook body run on a
 * checksummed packet opened for editing (edit_fixture.h), what the call gave
 * back, and the log line of a failure. For the Lua rewrite tests; the state
 * is lua_fixture.h's (vt_lua_teardown closes it). */
#ifndef VD_TEST_REWRITE_FIXTURE_H
#define VD_TEST_REWRITE_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include <verdict/verdict.h>

#include "edit_fixture.h"

/* The on_error verdict the runs use: drop with mark 0xdead, told apart
 * from a hook's own drop. */
struct vd_verdict vt_rewrite_on_error(void);

/* The protocols rewrites are tried on, for IP version v: TCP, UDP, then
 * ICMP (v 4) or ICMPv6 (v 6), for i 0 to VT_REWRITE_PROTOS - 1. */
#define VT_REWRITE_PROTOS 3
uint8_t vt_rewrite_proto(int v, unsigned i);

/* What one call did. */
struct vt_rewrite_run {
	struct vd_verdict verdict;
	bool failed;
	char log[8192]; /* the vd_log lines of the call */
};

/* Loads `return { f = function(pkt) BODY end }` in a fresh state and calls
 * f on f->pkt with f->edit (NULL when writable is false). */
void vt_rewrite_run(struct vt_edit_fixture *f, bool writable, const char *body,
		    struct vt_rewrite_run *r);

/* The call returned accept without failing; fails the test with the log
 * otherwise. */
void vt_rewrite_ok(struct vt_edit_fixture *f, const char *body);

/* The call failed with want in its log line, gave on_error, left
 * edit->reason as reason and discarded the edits. */
void vt_rewrite_fails(struct vt_edit_fixture *f, const char *body, uint8_t reason,
		      const char *want);

#endif
