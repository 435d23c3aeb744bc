/*
 * good.c - a well-formed test plugin. good_init/good_eval/good_fini record
 * what they were given in good_record; "plain" (no "_eval" suffix) comes
 * with plain_init/plain_fini; "bare_eval" has neither. requeue_eval returns
 * a queue verdict, reject_eval a reject, bypass_eval a connection drop;
 * bad_kind_eval, bad_flags_eval, bad_connection_eval and bad_reject_eval
 * return verdicts the kernel (or its generated rules) does not know, as a
 * buggy plugin might.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <verdict/hook.h>

#include "good.h"

VD_HOOK_PLUGIN_DECLARE();

VD_HOOK_EXPORT struct good_record good_record;

VD_HOOK_EXPORT int good_init(const struct vd_hook_context *ctx, void **state);
VD_HOOK_EVAL(good_eval);
VD_HOOK_EXPORT void good_fini(void *state);
VD_HOOK_EXPORT int plain_init(const struct vd_hook_context *ctx, void **state);
VD_HOOK_EVAL(plain);
VD_HOOK_EXPORT void plain_fini(void *state);
VD_HOOK_EVAL(bare_eval);
VD_HOOK_EVAL(requeue_eval);
VD_HOOK_EVAL(bad_kind_eval);
VD_HOOK_EVAL(reject_eval);
VD_HOOK_EVAL(bypass_eval);
VD_HOOK_EVAL(bad_connection_eval);
VD_HOOK_EVAL(bad_reject_eval);
VD_HOOK_EVAL(bad_flags_eval);

struct good_state {
	unsigned worker;
	unsigned evals;
};

static void copy_string(char *dst, size_t size, const char *src)
{
	dst[0] = '\0';
	if (src)
		strncat(dst, src, size - 1);
}

int good_init(const struct vd_hook_context *ctx, void **state)
{
	struct good_state *s;

	good_record.inits++;
	good_record.worker = ctx->worker;
	good_record.queue = ctx->queue;
	good_record.args_null = ctx->args == NULL;
	copy_string(good_record.rule_name, sizeof(good_record.rule_name), ctx->rule_name);
	copy_string(good_record.args, sizeof(good_record.args), ctx->args);
	if (ctx->args && strcmp(ctx->args, "fail") == 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->worker = ctx->worker;
	*state = s;
	return 0;
}

struct vd_verdict good_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
			    void *state)
{
	struct good_state *s = state;

	s->evals++;
	return vd_verdict_with_mark(vd_verdict_accept(), GOOD_MARK(s->worker, s->evals), ~0u);
}

void good_fini(void *state)
{
	struct good_state *s = state;

	good_record.finis++;
	good_record.fini_worker = s->worker;
	good_record.fini_evals = s->evals;
	free(s);
}

int plain_init(const struct vd_hook_context *ctx, void **state)
{
	*state = &good_record;
	return 0;
}

struct vd_verdict plain(const struct vd_packet *pkt, struct vd_packet_edit *edit,
			void *state)
{
	return vd_verdict_drop();
}

void plain_fini(void *state)
{
}

struct vd_verdict bare_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
			    void *state)
{
	return vd_verdict_repeat();
}

struct vd_verdict requeue_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
			       void *state)
{
	return vd_verdict_with_mark(vd_verdict_queue(GOOD_REQUEUE_TO, true), GOOD_REQUEUE_MARK,
				    GOOD_REQUEUE_MARK);
}

struct vd_verdict reject_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
			      void *state)
{
	return vd_verdict_reject(VD_REJECT_TCP_RESET);
}

struct vd_verdict bypass_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
			      void *state)
{
	return vd_verdict_connection(vd_verdict_with_mark(vd_verdict_drop(), 0x40, 0xf0));
}

/* The connection flag on repeat: nothing the kernel's rules can carry out. */
struct vd_verdict bad_connection_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
				      void *state)
{
	return vd_verdict_connection(vd_verdict_repeat());
}

/* A reject with an answer enum vd_reject_with does not have. */
struct vd_verdict bad_reject_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
				  void *state)
{
	return (struct vd_verdict){ .kind = VD_VERDICT_REJECT, .queue = 9 };
}

struct vd_verdict bad_kind_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
				void *state)
{
	return (struct vd_verdict){ .kind = 2 }; /* NF_STOLEN: not a verdict of ours */
}

struct vd_verdict bad_flags_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
				 void *state)
{
	struct vd_verdict v = vd_verdict_accept();

	v.flags = 0x80; /* no such flag */
	return v;
}
