/*
 * ruleset.c - compile a rules file into an immutable table and evaluate it.
 *
 * Evaluation: each indexed dimension gives the rules that can match the
 * packet's value (rule_index.h); the dimension with the fewest candidates is
 * walked in file order, each candidate checked against the other dimensions
 * and the remaining checks, and the first that passes decides. The cost is a
 * lookup per dimension and the candidates of the most selective one, so a
 * 100,000-rule table of distinct ports or addresses costs about what a
 * 10-rule one does.
 */
#include <endian.h>
#include <errno.h>
#include <libgen.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <verdict/kernel_mark.h>
#include <verdict/queue.h>

#include "name_table.h"
#include "rule_load.h"
#include "rule_rewrite.h"
#include "file_trust.h"
#include "ruleset.h"

/* --- evaluation (hot path) --- */

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

/* --- building --- */

static int build_dims(struct vd_ruleset *rs)
{
	size_t n = rs->file.nrules;
	struct vd_dim_rule *dr = calloc(n ? n : 1, sizeof(*dr));

	if (!dr)
		return -1;
	for (int d = 0; d < VD_DIM_COUNT; d++) {
		for (size_t i = 0; i < n; i++) {
			const struct vd_rule_dim_spec *spec = &rs->file.rules[i].dim[d];
			dr[i] = (struct vd_dim_rule){ spec->constrained, spec->ranges, spec->nranges };
		}
		if (vd_rule_index_build(&rs->dims[d], dr, n) < 0) {
			free(dr);
			return -1;
		}
	}
	free(dr);
	return 0;
}

static int check_names(const struct vd_ruleset *rs, char *err, size_t errlen)
{
	const struct vd_rule_file *f = &rs->file;
	struct vd_name_table seen;
	int ret = 0;

	/* Names key the hit counters that survive reloads: they must be unique. */
	if (vd_name_table_init(&seen, f->nrules) < 0) {
		snprintf(err, errlen, "%s: out of memory", rs->path);
		return -1;
	}
	for (size_t i = 0; i < f->nrules && ret == 0; i++) {
		unsigned j;

		if (vd_name_table_get(&seen, f->rules[i].name, &j)) {
			snprintf(err, errlen, "%s: rule %u \"%s\": name already used by rule %u",
				 rs->path, f->rules[i].index, f->rules[i].name, f->rules[j].index);
			ret = -1;
		} else if (vd_name_table_put(&seen, f->rules[i].name, (unsigned)i) < 0) {
			snprintf(err, errlen, "%s: out of memory", rs->path);
			ret = -1;
		}
	}
	vd_name_table_free(&seen);
	return ret;
}

static int load_plugins(struct vd_ruleset *rs, const struct vd_ruleset_options *opt, char *err,
			size_t errlen)
{
	char *dir_copy = strdup(rs->path);
	const char *base = dir_copy ? dirname(dir_copy) : ".";
	int ret = 0;

	for (size_t i = 0; i < rs->file.nrules && ret == 0; i++) {
		const struct vd_rule *r = &rs->file.rules[i];
		char why[400];

		if (r->action != VD_ACTION_PLUGIN)
			continue;
		if (vd_plugin_hook_load(r->plugin_path, r->plugin_symbol, base, opt->plugin_path,
					&rs->hooks[i], why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: rule %u \"%s\": key \"plugin\": %s", rs->path,
				 r->index, r->name, why);
			ret = -1;
		}
	}
	free(dir_copy);
	return ret;
}

/* Before each run of the file: a cancelled load (vd_rules_reload_cancel)
 * stops here even where the Lua layer does not check the flag. */
static int load_cancelled(const struct vd_ruleset *rs, const struct vd_ruleset_options *opt,
			  char *err, size_t errlen)
{
	if (!opt->lua.cancel || !atomic_load(opt->lua.cancel))
		return 0;
	snprintf(err, errlen, "%s: cancelled", rs->path);
	return -1;
}

static int worker_lua(struct vd_ruleset *rs, struct vd_ruleset_worker *wk,
		      const struct vd_ruleset_options *opt, char *err, size_t errlen)
{
	if (rs->file.nlua == 0)
		return 0;
	if (load_cancelled(rs, opt, err, errlen) < 0)
		return -1;
	wk->lua = vd_lua_open(&opt->lua, err, errlen);
	if (!wk->lua || vd_lua_load_file(wk->lua, rs->path, err, errlen) < 0)
		return -1;
	return vd_rule_file_lua_refs(wk->lua, rs->path, rs->list, &rs->file, wk->lua_refs, err,
				     errlen);
}

static int worker_plugins(struct vd_ruleset *rs, unsigned w, const struct vd_ruleset_options *opt,
			  char *err, size_t errlen)
{
	struct vd_ruleset_worker *wk = &rs->workers[w];

	for (size_t i = 0; i < rs->file.nrules; i++) {
		const struct vd_rule *r = &rs->file.rules[i];
		struct vd_hook_context ctx = { .worker = w,
					       .queue = opt->queues ? opt->queues[w] : 0,
					       .rule_name = r->name, .args = r->plugin_args };
		int ret;

		if (r->action != VD_ACTION_PLUGIN || !rs->hooks[i].init)
			continue;
		ret = rs->hooks[i].init(&ctx, &wk->plugin_state[i]);
		if (ret < 0) {
			snprintf(err, errlen, "%s: rule %u \"%s\": plugin %s: init for worker %u failed: %s",
				 rs->path, r->index, r->name, r->plugin_path, w, strerror(-ret));
			return -1;
		}
	}
	return 0;
}

/* Each shaping rule's state on worker w: buckets, flow table and limit
 * heap allocated here, never on the hot path. */
static int worker_shape(struct vd_ruleset *rs, struct vd_ruleset_worker *wk, unsigned w,
			uint32_t hold_max)
{
	for (size_t i = 0; i < rs->file.nrules; i++) {
		const struct vd_rule *r = &rs->file.rules[i];

		if (r->shape.keys && vd_rule_shape_state_init(&wk->shape[i], &r->shape, rs->file.seeded,
							      rs->file.seed, w, r->index,
							      hold_max) < 0)
			return -1;
	}
	return 0;
}

static int build_workers(struct vd_ruleset *rs, const struct vd_ruleset_options *opt, char *err,
			 size_t errlen)
{
	size_t n = rs->file.nrules ? rs->file.nrules : 1;

	rs->workers = calloc(opt->nworkers ? opt->nworkers : 1, sizeof(*rs->workers));
	if (!rs->workers)
		return -1;
	for (unsigned w = 0; w < opt->nworkers; w++) {
		struct vd_ruleset_worker *wk = &rs->workers[w];

		rs->nworkers = w + 1;
		wk->lua_refs = calloc(n, sizeof(*wk->lua_refs));
		wk->plugin_state = calloc(n, sizeof(*wk->plugin_state));
		wk->shape = calloc(n, sizeof(*wk->shape));
		if (!wk->lua_refs || !wk->plugin_state || !wk->shape ||
		    worker_shape(rs, wk, w, opt->hold_max ? opt->hold_max
						       : VD_QUEUE_DEFAULT_HOLD_MAX) < 0) {
			snprintf(err, errlen, "%s: out of memory", rs->path);
			return -1;
		}
		if (worker_lua(rs, wk, opt, err, errlen) < 0 ||
		    worker_plugins(rs, w, opt, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* Reads the file once, in a state of its own, for both of its lists (the
 * workers' states run it again only when it has hooks): a file that builds
 * a big set in a loop runs the loop once here. */
static int read_file(struct vd_ruleset *rs, const struct vd_ruleset_options *opt, char *err,
		     size_t errlen)
{
	struct vd_lua *reader;
	int ret;

	if (load_cancelled(rs, opt, err, errlen) < 0)
		return -1;
	reader = vd_lua_open(&opt->lua, err, errlen);
	if (!reader)
		return -1;
	ret = vd_lua_load_file(reader, rs->path, err, errlen);
	if (ret == 0)
		ret = vd_rule_file_read(reader, rs->path, rs->list, opt->kernel_mark_mask, &rs->file,
					err, errlen);
	if (ret == 0 && rs->logs)
		ret = vd_rule_file_read(reader, rs->path, rs->logs->list, opt->kernel_mark_mask,
					&rs->logs->file, err, errlen);
	vd_lua_close(reader);
	return ret;
}

static struct vd_ruleset *ruleset_new(const char *path, const char *list)
{
	struct vd_ruleset *rs = calloc(1, sizeof(*rs));

	if (!rs || !(rs->path = strdup(path))) {
		free(rs);
		return NULL;
	}
	rs->list = list;
	return rs;
}

/* Compiles the list read into rs->file: index, plugins, hook states. */
static int compile(struct vd_ruleset *rs, const struct vd_ruleset_options *opt, char *err,
		   size_t errlen)
{
	if (check_names(rs, err, errlen) < 0)
		return -1;
	rs->hooks = calloc(rs->file.nrules ? rs->file.nrules : 1, sizeof(*rs->hooks));
	rs->slots = calloc(rs->file.nrules ? rs->file.nrules : 1, sizeof(*rs->slots));
	if (!rs->hooks || !rs->slots || build_dims(rs) < 0) {
		snprintf(err, errlen, "%s: out of memory", rs->path);
		return -1;
	}
	return load_plugins(rs, opt, err, errlen) < 0 || build_workers(rs, opt, err, errlen) < 0
		       ? -1 : 0;
}

struct vd_ruleset *vd_ruleset_load(const char *path, const struct vd_ruleset_options *opt,
				   char *err, size_t errlen)
{
	struct vd_ruleset *rs = ruleset_new(path, opt->list ? opt->list : "rules");
	struct vd_ruleset_options lo = *opt;

	/* A "rules" table carries the same file's `logs` list, with hook states
	 * for the log workers. */
	if (!rs || (strcmp(rs->list, "rules") == 0 && !(rs->logs = ruleset_new(path, "logs")))) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	/* Once per file, before any of it runs: Lua runs as soon as it loads,
	 * with the loader's privileges. */
	if (!opt->list && vd_file_trust_check(path, "rules file", err, errlen) < 0)
		goto fail;
	if (opt->kernel_mark_mask && !vd_kmark_mask_valid(opt->kernel_mark_mask)) {
		snprintf(err, errlen, "%s: kernel mark mask 0x%x is not 4 contiguous bits (e.g. 0x%x)",
			 path, opt->kernel_mark_mask, VD_KMARK_DEFAULT_MASK);
		goto fail;
	}
	if (read_file(rs, opt, err, errlen) < 0 || compile(rs, opt, err, errlen) < 0)
		goto fail;
	lo.list = "logs";
	lo.nworkers = opt->nlog_workers;
	lo.queues = opt->log_groups;
	if (rs->logs && compile(rs->logs, &lo, err, errlen) < 0)
		goto fail;
	return rs;
fail:
	vd_ruleset_free(rs);
	return NULL;
}

void vd_ruleset_free(struct vd_ruleset *rs)
{
	if (!rs)
		return;
	vd_ruleset_free(rs->logs);
	for (unsigned w = 0; w < rs->nworkers; w++) {
		struct vd_ruleset_worker *wk = &rs->workers[w];

		for (size_t i = 0; wk->plugin_state && i < rs->file.nrules; i++)
			if (rs->hooks[i].fini && wk->plugin_state[i])
				rs->hooks[i].fini(wk->plugin_state[i]);
		for (size_t i = 0; wk->shape && i < rs->file.nrules; i++)
			vd_rule_shape_state_free(&wk->shape[i]);
		free(wk->shape);
		vd_lua_close(wk->lua);
		free(wk->lua_refs);
		free(wk->plugin_state);
	}
	for (size_t i = 0; rs->hooks && i < rs->file.nrules; i++)
		vd_plugin_hook_unload(&rs->hooks[i]);
	for (int d = 0; d < VD_DIM_COUNT; d++)
		vd_rule_index_free(&rs->dims[d]);
	vd_rule_file_free(&rs->file);
	free(rs->workers);
	free(rs->hooks);
	free(rs->slots);
	free(rs->path);
	free(rs);
}
