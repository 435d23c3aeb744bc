/* rule_kernel.c - reject and bypass in a rules file (rule_kernel.h). */
#include <string.h>

#include <lauxlib.h>

#include <verdict/kernel_mark.h>

#include "reject_with.h"
#include "rule_kernel.h"

int vd_rule_kernel_read_reject_with(struct loader *ld, uint16_t *with)
{
	enum vd_reject_with w;
	const char *s;
	size_t n;

	if (lua_type(ld->L, -1) != LUA_TSTRING)
		return vd_rule_fail(ld, "expected a string: " VD_REJECT_WITH_NAMES);
	s = lua_tolstring(ld->L, -1, &n);
	if (!vd_reject_with_parse(s, n, &w))
		return vd_rule_fail(ld, "unknown answer \"%.40s\": expected " VD_REJECT_WITH_NAMES, s);
	*with = (uint16_t)w;
	return 0;
}

/* The first shaping key r gives, for messages (rule_shape.h's bits, in
 * their order). */
static const char *shaping_key(const struct vd_rule *r)
{
	static const char *const keys[] = { "delay", "jitter", "distribution", "loss",
					    "rate", "burst", "per", "limit" };

	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (r->shape.keys & (1u << i))
			return keys[i];
	return NULL;
}

int vd_rule_kernel_check(struct loader *ld, struct vd_rule *r, bool connection)
{
	bool reject = r->action == VD_ACTION_VERDICT && r->verdict.kind == VD_VERDICT_REJECT;
	uint32_t field = ld->kernel_mark_mask ? ld->kernel_mark_mask : VD_KMARK_DEFAULT_MASK;
	const char *with;

	/* The field's bits decide what the kernel does with a repeated packet
	 * and its connection, so a rule may not set them. A mask over the
	 * field that sets none of its bits is fine (a whole mark, `mark = 5`):
	 * the queue puts the field's code over it where one goes. A logs
	 * entry's mark only annotates a record. */
	if (strcmp(ld->list, "rules") == 0 && (r->verdict.flags & VD_VERDICT_F_MARK) &&
	    (r->verdict.mark & r->verdict.mark_mask & field)) {
		ld->key = "mark";
		return vd_rule_fail(ld, "0x%08x/0x%08x sets bits of 0x%08x, the mark field verdictd's "
				    "kernel rules own (--bypass-mark): keep the rule's mark outside it",
				    r->verdict.mark, r->verdict.mark_mask, field);
	}

	if (connection) {
		ld->key = "bypass";
		if (strcmp(ld->list, "logs") == 0)
			return vd_rule_fail(ld, "logged packets are copies: there is no connection "
					    "to decide");
		if (r->action != VD_ACTION_VERDICT)
			return vd_rule_fail(ld, "needs a verdict (accept, drop or reject); a hook "
					    "returns its own: return \"accept\", { bypass = true }");
		if (r->verdict.kind == VD_VERDICT_REPEAT)
			return vd_rule_fail(ld, "verdict \"repeat\" cannot decide a connection "
					    "(accept, drop or reject can)");
		r->verdict.flags |= VD_VERDICT_F_CONNECTION;
	}
	if (!connection && !reject)
		return 0;
	/* Named after the key that asked for the kernel's decision. */
	ld->key = connection ? "bypass" : "verdict";
	with = connection ? "a connection decided in the kernel" : "a rejected packet";
	if (r->set.fields)
		return vd_rule_fail(ld, "cannot go with \"set\": %s is never rewritten", with);
	if (shaping_key(r))
		return vd_rule_fail(ld, "cannot go with \"%s\": %s is never delayed or shaped",
				    shaping_key(r), with);
	ld->key = NULL;
	return 0;
}

bool vd_rule_kernel_needed(const struct vd_rule *r)
{
	return r->action == VD_ACTION_VERDICT &&
	       (r->verdict.kind == VD_VERDICT_REJECT ||
		(r->verdict.flags & VD_VERDICT_F_CONNECTION));
}
