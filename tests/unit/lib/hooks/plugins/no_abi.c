/*
 * no_abi.c - a shared object with a function of the right shape but no
 * vd_hook_abi_version: not a verdictd plugin, so the loader refuses it.
 */
#include <verdict/packet.h>
#include <verdict/verdict.h>

struct vd_verdict no_abi_eval(const struct vd_packet *pkt, void *state);

struct vd_verdict no_abi_eval(const struct vd_packet *pkt, void *state)
{
	return vd_verdict_accept();
}
