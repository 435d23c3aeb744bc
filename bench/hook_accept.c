/*
 * hook_accept.c - the C hook the benchmarks time: reads pkt->dport and
 * pkt->len, as the Lua hook in the same rows does, and accepts (drops only
 * what no benchmark sends: port 1 above 1400 bytes). No state, no init.
 */
#include <verdict/hook.h>

VD_HOOK_PLUGIN_DECLARE();

VD_HOOK_EVAL(hook_accept_eval);

struct vd_verdict hook_accept_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
				   void *state)
{
	(void)state;
	if (pkt->dport == 1 && pkt->len > 1400)
		return vd_verdict_drop();
	return vd_verdict_accept();
}
