/*
 * drop_tag.c - a test plugin for the namespace tests: drops UDP packets whose
 * first payload byte is the tag given in the rule's args ("tag=238"), and
 * counts what it saw per worker. Exercises init (args), eval and fini.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <verdict/hook.h>

VD_HOOK_PLUGIN_DECLARE();

struct drop_tag {
	unsigned tag;
	unsigned long seen;
};

int drop_tag_init(const struct vd_hook_context *ctx, void **state);
VD_HOOK_EVAL(drop_tag_eval);
void drop_tag_fini(void *state);

int drop_tag_init(const struct vd_hook_context *ctx, void **state)
{
	struct drop_tag *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	if (!ctx->args || sscanf(ctx->args, "tag=%u", &d->tag) != 1 || d->tag > 255) {
		fprintf(stderr, "drop_tag: rule %s: args must be \"tag=N\" (0-255)\n", ctx->rule_name);
		free(d);
		return -EINVAL;
	}
	*state = d;
	return 0;
}

struct vd_verdict drop_tag_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
				void *state)
{
	struct drop_tag *d = state;

	d->seen++;
	if (pkt->payload_len > 0 && pkt->payload[0] == d->tag)
		return vd_verdict_drop();
	return vd_verdict_accept();
}

void drop_tag_fini(void *state)
{
	free(state);
}
