/*
 * bad_abi.c - a test plugin built for a hook ABI this verdictd does not
 * have: the loader must refuse it before calling anything.
 */
#include <verdict/hook.h>

VD_HOOK_EXPORT const uint32_t vd_hook_abi_version = 7;

VD_HOOK_EXPORT struct vd_verdict bad_abi_eval(const struct vd_packet *pkt, void *state);

struct vd_verdict bad_abi_eval(const struct vd_packet *pkt, void *state)
{
	return vd_verdict_accept();
}
