/*
 * v1.c - a plugin as built against hook ABI 1 (before rewriting): its
 * eval takes (pkt, state). Still loaded and called that way: it accepts
 * with the mark its init stored in its state, plus the packet's TTL, which
 * shows that both arguments arrived where it expects them. Its verdict has
 * ABI 1's 12-byte layout (struct vd_verdict_v1), as an old build returns it.
 */
#include <errno.h>
#include <stdlib.h>

#include <verdict/hook.h>

VD_HOOK_EXPORT const uint32_t vd_hook_abi_version = 1;

VD_HOOK_EXPORT int v1_init(const struct vd_hook_context *ctx, void **state);
VD_HOOK_EXPORT struct vd_verdict_v1 v1_eval(const struct vd_packet *pkt, void *state);
VD_HOOK_EXPORT void v1_fini(void *state);

#define V1_MARK 0x1000u

int v1_init(const struct vd_hook_context *ctx, void **state)
{
	uint32_t *mark = malloc(sizeof(*mark));

	if (!mark)
		return -ENOMEM;
	*mark = V1_MARK;
	*state = mark;
	return 0;
}

struct vd_verdict_v1 v1_eval(const struct vd_packet *pkt, void *state)
{
	const uint32_t *mark = state;

	return (struct vd_verdict_v1){ .kind = VD_VERDICT_ACCEPT, .flags = VD_VERDICT_F_MARK,
				       .mark = *mark + pkt->ttl, .mark_mask = ~0u };
}

void v1_fini(void *state)
{
	free(state);
}
