/*
 * rewriter.c - a hook ABI 2 test plugin that edits through the edit it is
 * given: rewrite_eval sets the TTL to REWRITER_TTL and the first payload
 * byte to REWRITER_BYTE, checks that pkt shows both, and accepts (repeat
 * when edit is NULL or pkt did not follow); rewrite_drop_eval and
 * rewrite_bad_eval make the same edits and drop or return no verdict;
 * rewrite_port_eval sets the source port and returns vd_hook_error() when
 * that is refused.
 */
#include <verdict/hook.h>

#include "rewriter.h"

VD_HOOK_PLUGIN_DECLARE();

VD_HOOK_EVAL(rewrite_eval);
VD_HOOK_EVAL(rewrite_drop_eval);
VD_HOOK_EVAL(rewrite_bad_eval);
VD_HOOK_EVAL(rewrite_port_eval);

static bool edited(const struct vd_packet *pkt, struct vd_packet_edit *edit)
{
	static const uint8_t byte = REWRITER_BYTE;

	return edit && vd_packet_edit_set_ttl(edit, REWRITER_TTL) == 0 &&
	       vd_packet_edit_replace_payload(edit, 0, 1, &byte, 1) == 0 &&
	       pkt->ttl == REWRITER_TTL && pkt->payload[0] == REWRITER_BYTE;
}

struct vd_verdict rewrite_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
			       void *state)
{
	return edited(pkt, edit) ? vd_verdict_accept() : vd_verdict_repeat();
}

struct vd_verdict rewrite_drop_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
				    void *state)
{
	edited(pkt, edit);
	return vd_verdict_drop();
}

struct vd_verdict rewrite_bad_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
				   void *state)
{
	edited(pkt, edit);
	return (struct vd_verdict){ .kind = VD_VERDICT_ACCEPT, .flags = 0x80 };
}

struct vd_verdict rewrite_port_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
				    void *state)
{
	if (vd_packet_edit_set_ttl(edit, REWRITER_TTL) < 0 ||
	    vd_packet_edit_set_sport(edit, REWRITER_PORT) < 0)
		return vd_hook_error();
	return vd_verdict_accept();
}
