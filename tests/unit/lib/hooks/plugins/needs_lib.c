/*
 * needs_lib.c - a test plugin that calls a libverdict function. verdictd
 * does not export those, so dlopen(RTLD_NOW) must fail with "undefined
 * symbol" and the loader must pass that text on.
 */
#include <verdict/hook.h>

VD_HOOK_PLUGIN_DECLARE();

VD_HOOK_EVAL(needs_lib_eval);

struct vd_verdict needs_lib_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
				 void *state)
{
	struct vd_packet copy = *pkt;

	vd_packet_parse(&copy);
	return vd_verdict_accept();
}
