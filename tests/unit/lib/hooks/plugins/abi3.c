/*
 * abi3.c - a test plugin built for hook ABI 3, newer than this verdictd:
 * refused before anything is called.
 */
#include <verdict/hook.h>

VD_HOOK_EXPORT const uint32_t vd_hook_abi_version = 3;

VD_HOOK_EVAL(abi3_eval);

struct vd_verdict abi3_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
			    void *state)
{
	return vd_verdict_accept();
}
