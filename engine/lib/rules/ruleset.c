/*
 * ruleset.c - compile a rules file into an immutable table: indexes, names,
 * plugins, per-worker Lua states and shaping state (ruleset.h). Evaluation
 * is ruleset_eval.c.
 */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include <verdict/kernel_mark.h>
#include <verdict/queue.h>

#include "name_table.h"
#include "rule_load.h"
#include "file_trust.h"
#include "ruleset.h"

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
