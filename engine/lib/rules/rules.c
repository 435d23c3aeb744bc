/*
 * rules.c - the live rule table: RCU publication, reload, and hit counters
 * that survive reloads.
 *
 * Counters live outside the tables, in a bank per worker indexed by a slot
 * that each rule name keeps for the life of the process: a reloaded table
 * counts on where the old one stopped, and no counter is copied between
 * threads. Slot 0 counts the default verdict. Each bank is written by its
 * worker alone (relaxed stores: exact, and TSan-clean for readers).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <verdict/queue.h>
#include <verdict/rules.h>

#include "export.h"
#include "log.h"
#include "rcu.h"
#include "ruleset.h"

#if defined(__SANITIZE_THREAD__)
char vd_rcu_tsan_token; /* see rcu.h */
#endif

/* Distinct rule names over the process's life; the banks are sized for this
 * up front (and stay untouched, so not resident, until used). */
#define MAX_SLOTS 65536

struct vd_rules {
	struct vd_ruleset *current;   /* RCU-protected */
	struct vd_rules_config cfg;
	char *path;
	uint16_t *queues;
	uint16_t *log_groups;
	pthread_mutex_t reload_lock;  /* serializes reloads; readers never take it */
	/* Held only while a reload switches tables and names slots, never while
	 * it loads: stats read names under it and answer during a long load. */
	pthread_mutex_t table_lock;
	/* vd_rules_reload_cancel: give up the load in progress. The Lua states
	 * of a table keep the flag they were loaded with for life, so the live
	 * table and a load in progress use different ones: cancelling a load
	 * must not fail the live table's hooks. */
	atomic_int cancel[2];
	unsigned live_cancel;         /* the live table's flag; loads use the other */
	atomic_int loading;           /* a reload is in progress */
	unsigned generation;
	char **slot_names;            /* slot -> rule name; under table_lock */
	unsigned nslots;
	uint64_t **hits;              /* [worker][slot] */
	uint64_t **errors;            /* [worker][slot] */
};

static inline void counter_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/* Hot path: one RCU dereference, the table's evaluation, one counter. */
VD_EXPORT struct vd_verdict vd_rules_eval_match(struct vd_rules *r, unsigned w, const struct vd_packet *pkt,
				      struct vd_rules_match *m)
{
	const struct vd_ruleset *rs = vd_rcu_read(&r->current);
	bool failed;
	int rule;
	struct vd_verdict v = vd_ruleset_eval(rs, w, pkt, &rule, &failed);
	unsigned slot = rule < 0 ? 0 : rs->slots[rule];

	counter_add(&r->hits[w][slot], 1);
	if (failed)
		counter_add(&r->errors[w][slot], 1);
	if (m) {
		m->rule = rule < 0 ? NULL : rs->file.rules[rule].name;
		m->log = rule < 0 ? rs->file.log_default : rs->file.rules[rule].log;
		m->hook_failed = failed;
	}
	return v;
}

VD_EXPORT struct vd_verdict vd_rules_eval(struct vd_rules *r, unsigned w, const struct vd_packet *pkt)
{
	return vd_rules_eval_match(r, w, pkt, NULL);
}

/* Hot path, on log worker w: the logs list decides whether pkt is written. */
VD_EXPORT struct vd_verdict vd_rules_eval_log(struct vd_rules *r, unsigned w, const struct vd_packet *pkt,
				    struct vd_rules_match *m)
{
	const struct vd_ruleset *rs = vd_rcu_read(&r->current)->logs;
	bool failed = false;
	int rule = -1;
	struct vd_verdict v = vd_verdict_accept();

	if (rs->file.nrules)
		v = vd_ruleset_eval(rs, w, pkt, &rule, &failed);
	if (m) {
		m->rule = rule < 0 ? NULL : rs->file.rules[rule].name;
		m->log = v.kind == VD_VERDICT_ACCEPT;
		m->hook_failed = failed;
	}
	return v;
}

/* Gives every rule of rs the slot of its name, taking new ones as needed. */
static int assign_slots(struct vd_rules *r, struct vd_ruleset *rs, char *errbuf)
{
	for (size_t i = 0; i < rs->file.nrules; i++) {
		const char *name = rs->file.rules[i].name;
		unsigned s;

		for (s = 1; s < r->nslots; s++)
			if (strcmp(r->slot_names[s], name) == 0)
				break;
		if (s == r->nslots) {
			if (r->nslots >= MAX_SLOTS) {
				vd_errbuf_set(errbuf, "%s: more than %d distinct rule names since start",
					      r->path, MAX_SLOTS - 1);
				return -1;
			}
			r->slot_names[s] = strdup(name);
			if (!r->slot_names[s])
				return -1;
			r->nslots++;
		}
		rs->slots[i] = s;
	}
	return 0;
}

static struct vd_ruleset *load(struct vd_rules *r, atomic_int *cancel, char *errbuf)
{
	struct vd_ruleset_options opt = {
		.nworkers = r->cfg.nworkers,
		.queues = r->queues,
		.lua = { .memory_bytes = r->cfg.lua_memory, .instructions = r->cfg.lua_instructions,
			 .cancel = cancel },
		.plugin_path = r->cfg.plugin_path,
		.nlog_workers = r->cfg.nlog_workers,
		.log_groups = r->log_groups,
	};

	return vd_ruleset_load(r->path, &opt, errbuf, VD_ERRBUF_SIZE);
}

static void rules_free(struct vd_rules *r)
{
	for (unsigned w = 0; w < r->cfg.nworkers; w++) {
		if (r->hits)
			free(r->hits[w]);
		if (r->errors)
			free(r->errors[w]);
	}
	for (unsigned s = 0; s < r->nslots; s++)
		free(r->slot_names[s]);
	free(r->slot_names);
	free(r->hits);
	free(r->errors);
	free(r->queues);
	free(r->log_groups);
	free(r->path);
	pthread_mutex_destroy(&r->reload_lock);
	pthread_mutex_destroy(&r->table_lock);
	free(r);
}

static int alloc_banks(struct vd_rules *r)
{
	unsigned n = r->cfg.nworkers;

	r->slot_names = calloc(MAX_SLOTS, sizeof(*r->slot_names));
	r->hits = calloc(n ? n : 1, sizeof(*r->hits));
	r->errors = calloc(n ? n : 1, sizeof(*r->errors));
	if (!r->slot_names || !r->hits || !r->errors)
		return -1;
	for (unsigned w = 0; w < n; w++) {
		r->hits[w] = calloc(MAX_SLOTS, sizeof(uint64_t));
		r->errors[w] = calloc(MAX_SLOTS, sizeof(uint64_t));
		if (!r->hits[w] || !r->errors[w])
			return -1;
	}
	r->slot_names[0] = strdup("(default)");
	r->nslots = 1;
	return r->slot_names[0] ? 0 : -1;
}

VD_EXPORT struct vd_rules *vd_rules_open_sized(const struct vd_rules_config *config,
					       size_t config_size, char *errbuf)
{
	struct vd_rules *r = calloc(1, sizeof(*r));
	const struct vd_rules_config *cfg;

	if (!r)
		goto nomem;
	pthread_mutex_init(&r->reload_lock, NULL);
	pthread_mutex_init(&r->table_lock, NULL);
	if (vd_abi_copy_in(&r->cfg, sizeof(r->cfg), config, config_size) < 0) {
		vd_errbuf_set(errbuf, "%s: the program was built against a newer libverdict "
			      "(it sets rule table settings this library does not know)",
			      config->path);
		rules_free(r);
		return NULL;
	}
	cfg = &r->cfg;
	r->path = strdup(cfg->path);
	r->cfg.path = r->path;
	if (cfg->queues && cfg->nworkers) {
		r->queues = malloc(cfg->nworkers * sizeof(*r->queues));
		if (r->queues)
			memcpy(r->queues, cfg->queues, cfg->nworkers * sizeof(*r->queues));
	}
	if (cfg->log_groups && cfg->nlog_workers) {
		r->log_groups = malloc(cfg->nlog_workers * sizeof(*r->log_groups));
		if (r->log_groups)
			memcpy(r->log_groups, cfg->log_groups,
			       cfg->nlog_workers * sizeof(*r->log_groups));
	}
	if (!r->path || (cfg->queues && cfg->nworkers && !r->queues) ||
	    (cfg->log_groups && cfg->nlog_workers && !r->log_groups) || alloc_banks(r) < 0) {
		rules_free(r);
		goto nomem;
	}
	r->current = load(r, &r->cancel[0], errbuf);
	if (r->current && assign_slots(r, r->current, errbuf) < 0) {
		vd_ruleset_free(r->current);
		r->current = NULL;
	}
	if (!r->current) {
		rules_free(r);
		errno = EINVAL;
		return NULL;
	}
	r->generation = 1;
	return r;
nomem:
	vd_errbuf_set(errbuf, "%s: out of memory", config->path);
	errno = ENOMEM;
	return NULL;
}

/* The new table in place of the old, under table_lock. */
static int reload_switch(struct vd_rules *r, struct vd_ruleset *fresh, char *errbuf)
{
	struct vd_ruleset *old;

	pthread_mutex_lock(&r->table_lock);
	if (assign_slots(r, fresh, errbuf) < 0) {
		pthread_mutex_unlock(&r->table_lock);
		vd_ruleset_free(fresh);
		errno = EINVAL;
		return -1;
	}
	old = vd_rcu_publish(&r->current, fresh);
	/* Every worker passes a quiescent state at the end of its batch (or is
	 * offline in recv): after this, none can still be inside `old`. */
	vd_rcu_synchronize();
	vd_ruleset_free(old);
	__atomic_store_n(&r->generation, r->generation + 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&r->table_lock);
	return 0;
}

VD_EXPORT int vd_rules_reload(struct vd_rules *r, char *errbuf)
{
	struct vd_ruleset *fresh;
	unsigned flag;
	int ret = -1;

	pthread_mutex_lock(&r->reload_lock);
	flag = 1 - r->live_cancel;
	atomic_store(&r->cancel[flag], 0);
	atomic_store(&r->loading, 1);
	fresh = load(r, &r->cancel[flag], errbuf);
	if (atomic_load(&r->cancel[flag])) {
		/* Whatever the load said, it was told to stop: say that. */
		vd_ruleset_free(fresh);
		vd_errbuf_set(errbuf, "%s: reload cancelled", r->path);
		errno = ECANCELED;
	} else if (!fresh) {
		errno = EINVAL;
	} else {
		ret = reload_switch(r, fresh, errbuf);
		if (ret == 0)
			__atomic_store_n(&r->live_cancel, flag, __ATOMIC_RELAXED);
	}
	atomic_store(&r->loading, 0);
	pthread_mutex_unlock(&r->reload_lock);
	return ret;
}

VD_EXPORT int vd_rules_reload_cancel(struct vd_rules *r)
{
	/* Only the flag of a load: the live table's stays clear. */
	atomic_store(&r->cancel[1 - __atomic_load_n(&r->live_cancel, __ATOMIC_RELAXED)], 1);
	return atomic_load(&r->loading);
}

VD_EXPORT unsigned vd_rules_generation(const struct vd_rules *r)
{
	return __atomic_load_n(&r->generation, __ATOMIC_RELAXED);
}

static void stats_of_slot(const struct vd_rules *r, unsigned slot, struct vd_rule_stats *out)
{
	out->hits = out->errors = 0;
	for (unsigned w = 0; w < r->cfg.nworkers; w++) {
		out->hits += __atomic_load_n(&r->hits[w][slot], __ATOMIC_RELAXED);
		out->errors += __atomic_load_n(&r->errors[w][slot], __ATOMIC_RELAXED);
	}
}

VD_EXPORT size_t vd_rules_stats_sized(struct vd_rules *r, struct vd_rule_stats *out, size_t max,
				      size_t elem_size)
{
	const struct vd_ruleset *rs;
	size_t n;

	/* Under the table lock the table cannot be freed while we read names. */
	pthread_mutex_lock(&r->table_lock);
	rs = r->current;
	n = rs->file.nrules + 1;
	for (size_t i = 0; i < n && i < max; i++) {
		unsigned slot = i ? rs->slots[i - 1] : 0;
		struct vd_rule_stats st;

		snprintf(st.name, sizeof(st.name), "%s", r->slot_names[slot]);
		st.index = i ? rs->file.rules[i - 1].index : 0;
		stats_of_slot(r, slot, &st);
		/* The caller's array has elements of its own version's size. */
		vd_abi_copy_out((char *)out + i * elem_size, elem_size, &st, sizeof(st));
	}
	pthread_mutex_unlock(&r->table_lock);
	return n;
}

VD_EXPORT struct vd_verdict vd_rules_default_verdict(struct vd_rules *r)
{
	const struct vd_ruleset *rs = vd_rcu_read(&r->current);

	return rs->file.default_verdict;
}

VD_EXPORT void vd_rules_reader_register(void)
{
	rcu_register_thread();
}

VD_EXPORT void vd_rules_reader_quiescent(void)
{
	vd_rcu_quiescent();
}

VD_EXPORT void vd_rules_reader_unregister(void)
{
	rcu_unregister_thread();
}

VD_EXPORT int vd_rules_check(const char *path, const char *plugin_path, FILE *out, char *errbuf)
{
	struct vd_ruleset_options opt = { .nworkers = 1, .plugin_path = plugin_path };
	struct vd_ruleset *rs = vd_ruleset_load(path, &opt, errbuf, VD_ERRBUF_SIZE);

	/* One worker's worth of hooks: Lua states run the file and plugins
	 * initialise, so what would fail at start-up fails here. */
	if (!rs)
		return -1;
	vd_ruleset_summary(rs, out);
	vd_ruleset_free(rs);
	return 0;
}

VD_EXPORT void vd_rules_close(struct vd_rules *r)
{
	if (!r)
		return;
	vd_ruleset_free(r->current);
	rules_free(r);
}
