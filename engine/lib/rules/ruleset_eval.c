/*
 * ruleset_eval.c - evaluate a compiled table (ruleset.h), the hot path.
 *
 * Each indexed dimension gives the rules that can match the packet's value
 * (rule_index.h); the dimension with the fewest candidates is walked in file
 * order, each candidate checked against the other dimensions and the
 * remaining checks, and the first that passes decides. The cost is a lookup
 * per dimension and the candidates of the most selective one, so a
 * 100,000-rule table of distinct ports or addresses costs about what a
 * 10-rule one does.
 */
#include <endian.h>
#include <netinet/in.h>
#include <string.h>

#include <verdict/queue.h>

#include "rule_load.h"
#include "rule_rewrite.h"
#include "ruleset.h"

static inline vd_key address_key(const struct vd_packet *p, const uint8_t *a)
{
	uint64_t hi, lo;
	uint32_t v4;

	if (p->ip_version == 4) {
		memcpy(&v4, a, 4);
		return ((vd_key)0xffff << 32) | be32toh(v4); /* ::ffff:a.b.c.d */
	}
	memcpy(&hi, a, 8);
	memcpy(&lo, a + 8, 8);
	return ((vd_key)be64toh(hi) << 64) | be64toh(lo);
}

/* The key of dimension d in p; false when the packet does not have it. */
static inline bool dim_key(const struct vd_packet *p, enum vd_rule_dim d, vd_key *key)
{
	switch (d) {
	case VD_DIM_PROTO:
		*key = p->l4_proto;
		return p->ip_version != 0;
	case VD_DIM_SRC:
		*key = p->ip_version ? address_key(p, p->src) : 0;
		return p->ip_version != 0;
	case VD_DIM_DST:
		*key = p->ip_version ? address_key(p, p->dst) : 0;
		return p->ip_version != 0;
	case VD_DIM_SPORT:
		*key = p->sport;
		return vd_packet_has_ports(p);
	case VD_DIM_DPORT:
		*key = p->dport;
		return vd_packet_has_ports(p);
	case VD_DIM_IIF:
		*key = p->indev;
		return (p->meta & VD_META_INDEV) != 0;
	case VD_DIM_OIF:
		*key = p->outdev;
		return (p->meta & VD_META_OUTDEV) != 0;
	case VD_DIM_QUEUE:
		*key = p->queue;
		return true;
	default:
		return false;
	}
}

static inline bool in_range(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v >= lo && v <= hi;
}

/* The matches the index does not cover; most rules have none. */
static bool checks_pass(const struct vd_rule *r, const struct vd_packet *p)
{
	uint32_t c = r->checks;
	uint32_t ct_bit;

	if (c == 0)
		return true;
	if ((c & VD_CHECK_MARK) &&
	    (((p->meta & VD_META_MARK) ? p->mark : 0) & r->mark_mask) != (r->mark_value & r->mark_mask))
		return false;
	if ((c & VD_CHECK_UID) && (!(p->meta & VD_META_UID) || !in_range(p->uid, r->uid_lo, r->uid_hi)))
		return false;
	if ((c & VD_CHECK_GID) && (!(p->meta & VD_META_GID) || !in_range(p->gid, r->gid_lo, r->gid_hi)))
		return false;
	if ((c & VD_CHECK_LEN) && !in_range(p->len, r->len_lo, r->len_hi))
		return false;
	if ((c & VD_CHECK_TCP_FLAGS) &&
	    (!vd_packet_has_tcp_flags(p) || (p->tcp_flags & r->tcp_mask) != r->tcp_value))
		return false;
	ct_bit = (p->meta & VD_META_CT) ? 1u << (p->ct_state & 31) : VD_CT_INVALID_BIT;
	if ((c & VD_CHECK_CT_STATE) && !(r->ct_states & ct_bit))
		return false;
	if ((c & VD_CHECK_ICMP_TYPE) && (!vd_packet_has_icmp(p) || p->icmp_type != r->icmp_type))
		return false;
	if ((c & VD_CHECK_ICMP_CODE) && p->icmp_code != r->icmp_code)
		return false;
	return true;
}

/* A verdict verdict.h can build. A plugin compiled against the header
 * returns nothing else unless it is broken; the kernel would refuse (or,
 * for NF_STOLEN, lose) anything else. */
static inline bool verdict_known(struct vd_verdict v)
{
	switch (v.kind) {
	case VD_VERDICT_ACCEPT:
	case VD_VERDICT_DROP:
		return (v.flags & ~(VD_VERDICT_F_MARK | VD_VERDICT_F_CONNECTION)) == 0;
	case VD_VERDICT_REJECT:
		return v.queue <= VD_REJECT_WITH_MAX &&
		       (v.flags & ~(VD_VERDICT_F_MARK | VD_VERDICT_F_CONNECTION)) == 0;
	case VD_VERDICT_QUEUE:
	case VD_VERDICT_REPEAT:
		return (v.flags & ~(VD_VERDICT_F_MARK | VD_VERDICT_F_BYPASS)) == 0;
	default:
		return false;
	}
}

/* Decided by the kernel's rules at once, on the packet as it came: never
 * rewritten nor shaped (verdict/verdict.h). */
static inline bool kernel_decides(struct vd_verdict v)
{
	return v.kind == VD_VERDICT_REJECT || (v.flags & VD_VERDICT_F_CONNECTION);
}

/* After the rule's action: a verdict that drops, or a hook that failed,
 * sends nothing it wrote; a verdict that lets the packet on gets the rule's
 * set, whose refusal gives on_error with the packet unmodified (edit->reason
 * stays set: the caller counts a rewrite error, not a hook error). */
static struct vd_verdict act_edit(const struct vd_rule *r, struct vd_packet_edit *edit,
				  struct vd_verdict v, bool *hook_failed)
{
	if (!edit)
		return v;
	if (*hook_failed || v.kind == VD_VERDICT_DROP || kernel_decides(v)) {
		vd_packet_edit_discard(edit);
		return v;
	}
	if (r->set.fields && vd_rule_rewrite_apply(&r->set, edit) < 0) {
		vd_packet_edit_discard(edit);
		*hook_failed = true;
		return r->on_error;
	}
	return v;
}

/* After the action and its set: the rule's shaping, for a verdict that lets
 * the packet go on (a failed hook's on_error is not shaped, as it is not
 * rewritten). A shaping drop sends nothing the rule wrote. */
static struct vd_verdict act_shape(const struct vd_rule *r, struct vd_rule_shape_state *st,
				   const struct vd_packet *pkt, struct vd_packet_edit *edit,
				   struct vd_verdict v, bool hook_failed,
				   struct vd_shape_report *shaped)
{
	if (!r->shape.keys || hook_failed || kernel_decides(v) ||
	    (v.kind != VD_VERDICT_ACCEPT && v.kind != VD_VERDICT_REPEAT && v.kind != VD_VERDICT_QUEUE))
		return v;
	v = vd_rule_shape_apply(&r->shape, st, pkt, v, shaped);
	if (v.kind == VD_VERDICT_DROP && edit)
		vd_packet_edit_discard(edit);
	return v;
}

static struct vd_verdict act(const struct vd_ruleset *rs, unsigned w, size_t i,
			     const struct vd_packet *pkt, struct vd_packet_edit *edit,
			     bool *hook_failed, struct vd_shape_report *shaped)
{
	const struct vd_rule *r = &rs->file.rules[i];
	const struct vd_ruleset_worker *wk = &rs->workers[w];
	struct vd_verdict v;

	switch (r->action) {
	case VD_ACTION_LUA:
		v = vd_lua_call(wk->lua, wk->lua_refs[i], r->name, pkt, edit, r->on_error,
				hook_failed);
		break;
	case VD_ACTION_PLUGIN:
		/* Passed on as it is (queue, bypass and mark included) when valid;
		 * otherwise a hook error, counted like a failing Lua hook's. */
		v = vd_plugin_hook_eval(&rs->hooks[i], pkt, edit, wk->plugin_state[i]);
		if (!verdict_known(v)) {
			*hook_failed = true;
			v = r->on_error;
		}
		break;
	default:
		/* The common rule: no set, no shaping, one branch. */
		if (!r->set.fields && !r->shape.keys)
			return r->verdict;
		v = r->verdict;
	}
	v = act_edit(r, edit, v, hook_failed);
	return act_shape(r, &wk->shape[i], pkt, edit, v, *hook_failed, shaped);
}

/* One used dimension of a packet: its key and the constraining rules that
 * match it. */
struct dim_view {
	const struct vd_rule_index *ix;
	struct vd_rule_list list;
	vd_key key;
	bool has;
};

/* Whether candidate i (from another dimension) matches every dimension but
 * `skip`, and the remaining checks. */
static inline bool candidate_matches(const struct vd_ruleset *rs, const struct dim_view *v,
				     size_t nv, size_t skip, size_t i, const struct vd_packet *pkt)
{
	for (size_t d = 0; d < nv; d++)
		if (d != skip && !vd_rule_index_matches(v[d].ix, i, v[d].has, v[d].key))
			return false;
	return checks_pass(&rs->file.rules[i], pkt);
}

/* Hot path: a lookup per used dimension, then the candidates of the most
 * selective one in file order (its matching rules merged with those that
 * do not constrain it), each checked against the other dimensions directly.
 * No allocation, no lock. */
/* Tables of at most 64 rules: one word of candidates, ANDed with each used
 * dimension's class mask, then the set bits in file order. */
static struct vd_verdict eval_masks(const struct vd_ruleset *rs, unsigned w,
				    const struct vd_packet *pkt, struct vd_packet_edit *edit,
				    int *rule, bool *hook_failed, struct vd_shape_report *shaped)
{
	size_t n = rs->file.nrules;
	uint64_t m = n >= 64 ? ~0ull : (1ull << n) - 1;

	for (int d = 0; d < VD_DIM_COUNT && m; d++) {
		const struct vd_rule_index *ix = &rs->dims[d];
		vd_key key;

		if (!ix->used)
			continue;
		m &= dim_key(pkt, d, &key) ? ix->class_mask[vd_rule_index_class(ix, key)]
					   : ix->none_bits[0];
	}
	for (; m; m &= m - 1) {
		size_t i = (size_t)__builtin_ctzll(m);

		if (checks_pass(&rs->file.rules[i], pkt)) {
			*rule = (int)i;
			return act(rs, w, i, pkt, edit, hook_failed, shaped);
		}
	}
	*rule = -1;
	return rs->file.default_verdict;
}

struct vd_verdict vd_ruleset_eval(const struct vd_ruleset *rs, unsigned w,
				  const struct vd_packet *pkt, struct vd_packet_edit *edit,
				  int *rule, bool *hook_failed)
{
	struct vd_shape_report shaped;

	return vd_ruleset_eval_shaped(rs, w, pkt, edit, rule, hook_failed, &shaped);
}

struct vd_verdict vd_ruleset_eval_shaped(const struct vd_ruleset *rs, unsigned w,
					 const struct vd_packet *pkt, struct vd_packet_edit *edit,
					 int *rule, bool *hook_failed, struct vd_shape_report *shaped)
{
	struct dim_view v[VD_DIM_COUNT];
	size_t nv = 0, best = 0, best_n = rs->file.nrules;
	const uint32_t *a, *a_end, *b, *b_end;

	*hook_failed = false;
	*shaped = (struct vd_shape_report){ .outcome = VD_SHAPE_NOTHING };
	if (rs->file.nrules <= VD_RULE_INDEX_MASK_RULES)
		return eval_masks(rs, w, pkt, edit, rule, hook_failed, shaped);
	for (int d = 0; d < VD_DIM_COUNT; d++) {
		const struct vd_rule_index *ix = &rs->dims[d];
		struct dim_view *dv = &v[nv];

		if (!ix->used)
			continue;
		dv->ix = ix;
		dv->has = dim_key(pkt, d, &dv->key);
		dv->list = dv->has ? vd_rule_index_lookup(ix, dv->key) : (struct vd_rule_list){ 0 };
		if (dv->list.n + ix->nnone < best_n || nv == 0)
			best = nv, best_n = dv->list.n + ix->nnone;
		nv++;
	}
	if (nv == 0) { /* no dimension used: every rule is a candidate */
		for (size_t i = 0; i < rs->file.nrules; i++)
			if (checks_pass(&rs->file.rules[i], pkt)) {
				*rule = (int)i;
				return act(rs, w, i, pkt, edit, hook_failed, shaped);
			}
		*rule = -1;
		return rs->file.default_verdict;
	}
	a = v[best].list.ids, a_end = a + v[best].list.n;
	b = v[best].ix->none, b_end = b + v[best].ix->nnone;
	while (a < a_end || b < b_end) {
		size_t i = (b == b_end || (a < a_end && *a < *b)) ? *a++ : *b++;

		if (candidate_matches(rs, v, nv, best, i, pkt)) {
			*rule = (int)i;
			return act(rs, w, i, pkt, edit, hook_failed, shaped);
		}
	}
	*rule = -1;
	return rs->file.default_verdict;
}
