/*
 * delay.c - a test plugin for the namespace tests of held verdicts (hook ABI
 * 2): accepts every packet it sees after the delay in the rule's args
 * ("ms=30"; "us=500" for sub-millisecond delays).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <verdict/hook.h>

VD_HOOK_PLUGIN_DECLARE();

struct delay {
	uint64_t ns;
};

int delay_init(const struct vd_hook_context *ctx, void **state);
VD_HOOK_EVAL(delay_eval);
void delay_fini(void *state);

int delay_init(const struct vd_hook_context *ctx, void **state)
{
	struct delay *d = calloc(1, sizeof(*d));
	unsigned long v;

	if (!d)
		return -ENOMEM;
	if (ctx->args && sscanf(ctx->args, "ms=%lu", &v) == 1 && v <= 3600000) {
		d->ns = v * 1000000u;
	} else if (ctx->args && sscanf(ctx->args, "us=%lu", &v) == 1 && v <= 3600000000u) {
		d->ns = v * 1000u;
	} else {
		fprintf(stderr, "delay: rule %s: args must be \"ms=N\" or \"us=N\"\n",
			ctx->rule_name);
		free(d);
		return -EINVAL;
	}
	*state = d;
	return 0;
}

struct vd_verdict delay_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
			     void *state)
{
	const struct delay *d = state;

	(void)pkt;
	(void)edit;
	return vd_verdict_delay(vd_verdict_accept(), d->ns);
}

void delay_fini(void *state)
{
	free(state);
}
