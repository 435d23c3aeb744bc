/*
 * rules.c - the live rule table: RCU publication, reload, and hit counters
 * that survive reloads.
 *
 * Counters live outside the tables, in a bank per worker indexed by a slot
 * that each rule name keeps while it is in the table: a reloaded table
 * counts on where the old one stopped, and no counter is copied between
 * threads. Slot 0 counts the default verdict. Each bank is written by its
 * worker alone (relaxed stores: exact, and TSan-clean for readers).
 *
 * A name that a reload removes gives its slot back once no worker can count
 * on it any more (after the grace period): its counters are dropped (a rule
 * that comes back later starts from 0) and the slot is reused, so the number
 * of distinct names over the process's life is unbounded. Banks are chunks
 * that never move: a reload adds chunks before it publishes the table that
 * needs them, and workers never see a bank being resized.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <verdict/queue.h>
#include <verdict/rules.h>

#include "export.h"
#include "log.h"
#include "rcu.h"
#include "name_table.h"
#include "rewrite_log.h"
#include "ruleset.h"
#include "rules_internal.h"
#include "internal/internal.h"

#if defined(__SANITIZE_THREAD__)
char vd_rcu_tsan_token; /* see rcu.h */
#endif

static inline void counter_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/* A shaping rule's held and released on worker w (before its delayed
 * count moves): the releases its heap found, and for a delayed packet, its
 * release time and the peak. When every earlier release time has passed,
 * released catches up with delayed: that also counts the packets an earlier
 * table held (its heap went with it). Hot path: no lock, no allocation. */
static void held_count(struct vd_rules *r, unsigned w, unsigned slot,
		       const struct vd_shape_report *s)
{
	uint64_t *released = counter_of(r->bank[COUNTER_RELEASED], w, slot);
	uint64_t *last = counter_of(r->bank[COUNTER_LAST_RELEASE], w, slot);
	uint64_t *peak = counter_of(r->bank[COUNTER_HELD_MAX], w, slot);

	if (s->released)
		counter_add(released, s->released);
	if (s->outcome != VD_SHAPE_DELAYED)
		return;
	if (*last <= s->now_ns)
		__atomic_store_n(released, *counter_of(r->bank[COUNTER_DELAYED], w, slot),
				 __ATOMIC_RELAXED);
	if (s->release_ns > *last)
		__atomic_store_n(last, s->release_ns, __ATOMIC_RELAXED);
	if (s->held > *peak)
		__atomic_store_n(peak, s->held, __ATOMIC_RELAXED);
}

/* Hot path: one RCU dereference, the table's evaluation, one counter.
 * *rewrite_failed: a refused rewrite (rather than a hook) chose on_error. */
static struct vd_verdict eval(struct vd_rules *r, unsigned w, const struct vd_packet *pkt,
			      struct vd_packet_edit *edit, struct vd_rules_match *m,
			      bool *rewrite_failed)
{
	const struct vd_ruleset *rs = vd_rcu_read(&r->current);
	static const enum rule_counter shape_counter[] = {
		[VD_SHAPE_DELAYED] = COUNTER_DELAYED,
		[VD_SHAPE_LOSS_DROPPED] = COUNTER_LOSS_DROPPED,
		[VD_SHAPE_LIMIT_DROPPED] = COUNTER_LIMIT_DROPPED,
	};
	bool failed;
	int rule;
	struct vd_shape_report shaped;
	struct vd_verdict v = vd_ruleset_eval_shaped(rs, w, pkt, edit, &rule, &failed, &shaped);
	unsigned slot = rule < 0 ? 0 : rs->slots[rule];

	*rewrite_failed = false;
	counter_add(counter_of(r->bank[COUNTER_HITS], w, slot), 1);
	if (shaped.now_ns)
		held_count(r, w, slot, &shaped);
	if (shaped.outcome != VD_SHAPE_NOTHING)
		/* Release: a reader that sees this delayed packet sees its
		 * release time (held_count) too. */
		__atomic_store_n(counter_of(r->bank[shape_counter[shaped.outcome]], w, slot),
				 *counter_of(r->bank[shape_counter[shaped.outcome]], w, slot) + 1,
				 __ATOMIC_RELEASE);
	if (failed) {
		*rewrite_failed = edit && edit->reason != VD_EDIT_OK;
		counter_add(counter_of(r->bank[*rewrite_failed ? COUNTER_REWRITE_ERRORS
							       : COUNTER_ERRORS],
				       w, slot),
			    1);
		/* A Lua hook logged its refusal as its error already. */
		if (*rewrite_failed && rule >= 0 && rs->file.rules[rule].action != VD_ACTION_LUA)
			vd_rewrite_log(&r->rewrite_log[w], rs->file.rules[rule].name,
				       vd_packet_edit_reason_str(edit->reason));
	}
	if (m) {
		m->rule = rule < 0 ? NULL : rs->file.rules[rule].name;
		m->log = rule < 0 ? rs->file.log_default : rs->file.rules[rule].log;
		m->hook_failed = failed && !*rewrite_failed;
	}
	return v;
}

VD_EXPORT struct vd_verdict vd_rules_eval_match(struct vd_rules *r, unsigned w,
						const struct vd_packet *pkt,
						struct vd_rules_match *m)
{
	bool rewrite_failed;

	return eval(r, w, pkt, NULL, m, &rewrite_failed);
}

/* m->rewrite_failed is written here only: callers built before 0.3 pass a
 * struct without it to vd_rules_eval_match. */
VD_EXPORT struct vd_verdict vd_rules_eval_edit(struct vd_rules *r, unsigned w,
					       struct vd_packet_edit *edit,
					       struct vd_rules_match *m)
{
	bool rewrite_failed;
	struct vd_verdict v = eval(r, w, edit->pkt, edit, m, &rewrite_failed);

	if (m)
		m->rewrite_failed = rewrite_failed;
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
		v = vd_ruleset_eval(rs, w, pkt, NULL, &rule, &failed);
	if (m) {
		m->rule = rule < 0 ? NULL : rs->file.rules[rule].name;
		m->log = v.kind == VD_VERDICT_ACCEPT;
		m->hook_failed = failed;
	}
	return v;
}

/* Room for n more slots: chunks for every worker and the per-slot arrays.
 * Everything is allocated before any slot is taken, so that assigning
 * cannot fail half-way. */
static int slots_reserve(struct vd_rules *r, size_t n)
{
	size_t fresh = n > r->nfree ? n - r->nfree : 0, top = (size_t)r->nslots + fresh;
	unsigned *gen, *free_slots;

	if (top > (size_t)MAX_CHUNKS * CHUNK_SLOTS)
		return errno = E2BIG, -1;
	gen = realloc(r->slot_gen, (top ? top : 1) * sizeof(*gen));
	if (!gen)
		return -1;
	r->slot_gen = gen;
	free_slots = realloc(r->free_slots, (top ? top : 1) * sizeof(*free_slots));
	if (!free_slots)
		return -1;
	r->free_slots = free_slots;
	for (size_t c = 0; c * CHUNK_SLOTS < top; c++)
		for (unsigned w = 0; w < r->cfg.nworkers; w++)
			for (int k = 0; k < COUNTER_COUNT; k++) {
				uint64_t **chunk = &r->bank[k][w][c];

				if (!*chunk && !(*chunk = calloc(CHUNK_SLOTS, sizeof(uint64_t))))
					return -1;
			}
	return 0;
}

/* Gives every rule of rs (generation gen) the slot of its name in the live
 * table, or a free one, and makes its names the live ones. */
static int assign_slots(struct vd_rules *r, struct vd_ruleset *rs, unsigned gen, char *errbuf)
{
	struct vd_name_table names;
	size_t n = rs->file.nrules, missing = 0;
	unsigned s;

	for (size_t i = 0; i < n; i++)
		missing += !vd_name_table_get(&r->slot_of, rs->file.rules[i].name, &s);
	if (slots_reserve(r, missing) < 0 || vd_name_table_init(&names, n) < 0) {
		vd_errbuf_set(errbuf, "%s: %s for the counters of %zu rules", r->path,
			      errno == E2BIG ? "too many rule names at once" : "out of memory", n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = rs->file.rules[i].name;

		if (!vd_name_table_get(&r->slot_of, name, &s))
			s = r->nfree ? r->free_slots[--r->nfree] : r->nslots++;
		rs->slots[i] = s;
		r->slot_gen[s] = gen;
		vd_name_table_put(&names, name, s); /* sized for n: cannot fail */
	}
	vd_name_table_free(&r->slot_of);
	r->slot_of = names; /* borrows rs's names: rs is the next live table */
	return 0;
}

/* Gives back the slots of old's rules that the live table (generation gen)
 * no longer has, their counters zeroed: called after the grace period, when
 * no worker can count on them any more. */
static void release_slots(struct vd_rules *r, const struct vd_ruleset *old, unsigned gen)
{
	for (size_t i = 0; i < old->file.nrules; i++) {
		unsigned s = old->slots[i];

		if (r->slot_gen[s] == gen)
			continue;
		for (unsigned w = 0; w < r->cfg.nworkers; w++)
			for (int k = 0; k < COUNTER_COUNT; k++)
				__atomic_store_n(counter_of(r->bank[k], w, s), 0, __ATOMIC_RELAXED);
		r->slot_gen[s] = 0;
		r->free_slots[r->nfree++] = s;
	}
}

static struct vd_ruleset *load(struct vd_rules *r, atomic_int *cancel, char *errbuf)
{
	struct vd_ruleset_options opt = {
		.nworkers = r->cfg.nworkers,
		.queues = r->queues,
		.lua = { .memory_bytes = r->cfg.lua_memory, .instructions = r->cfg.lua_instructions,
			 .call_ms = r->cfg.lua_call_ms,
			 .load_instructions = r->cfg.lua_load_instructions,
			 .load_ms = r->cfg.lua_load_ms, .cancel = cancel },
		.plugin_path = r->cfg.plugin_path,
		.nlog_workers = r->cfg.nlog_workers,
		.log_groups = r->log_groups,
		.kernel_mark_mask = r->cfg.kernel_mark_mask,
		.hold_max = r->cfg.hold_max,
	};

	return vd_ruleset_load(r->path, &opt, errbuf, VD_ERRBUF_SIZE);
}

static void rules_free(struct vd_rules *r)
{
	for (int k = 0; k < COUNTER_COUNT; k++) {
		for (unsigned w = 0; r->bank[k] && w < r->cfg.nworkers; w++) {
			for (unsigned c = 0; r->bank[k][w] && c < MAX_CHUNKS; c++)
				free(r->bank[k][w][c]);
			free(r->bank[k][w]);
		}
		free(r->bank[k]);
	}
	vd_name_table_free(&r->slot_of);
	free(r->slot_gen);
	free(r->free_slots);
	free(r->rewrite_log);
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

	for (int k = 0; k < COUNTER_COUNT; k++) {
		r->bank[k] = calloc(n ? n : 1, sizeof(*r->bank[k]));
		if (!r->bank[k])
			return -1;
		for (unsigned w = 0; w < n; w++)
			if (!(r->bank[k][w] = calloc(MAX_CHUNKS, sizeof(*r->bank[k][w]))))
				return -1;
	}
	r->rewrite_log = calloc(n ? n : 1, sizeof(*r->rewrite_log));
	if (!r->rewrite_log)
		return -1;
	r->nslots = 1; /* slot 0: the default verdict */
	return slots_reserve(r, 0);
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
	if (r->current && assign_slots(r, r->current, 1, errbuf) < 0) {
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
	if (assign_slots(r, fresh, r->generation + 1, errbuf) < 0) {
		pthread_mutex_unlock(&r->table_lock);
		vd_ruleset_free(fresh);
		errno = EINVAL;
		return -1;
	}
	old = vd_rcu_publish(&r->current, fresh);
	/* Every worker passes a quiescent state at the end of its batch (or is
	 * offline in recv): after this, none can still be inside `old`. */
	vd_rcu_synchronize();
	release_slots(r, old, r->generation + 1);
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


/* The current table's file-level keys. Any thread (the daemon asks before
 * its workers start and after a reload): under the table lock, as the stats
 * read, not as a reader. */
static void file_keys(struct vd_rules *r, bool *delays, unsigned *first_packets)
{
	pthread_mutex_lock(&r->table_lock);
	*delays = r->current->file.delays;
	*first_packets = r->current->file.first_packets;
	pthread_mutex_unlock(&r->table_lock);
}

VD_EXPORT bool vd_rules_delays(struct vd_rules *r)
{
	bool delays;
	unsigned first_packets;

	file_keys(r, &delays, &first_packets);
	return delays;
}

VD_EXPORT bool vd_rules_kernel_verdicts(struct vd_rules *r)
{
	bool needed;

	pthread_mutex_lock(&r->table_lock);
	needed = r->current->file.kernel_verdicts;
	pthread_mutex_unlock(&r->table_lock);
	return needed;
}

VD_EXPORT unsigned vd_rules_first_packets(struct vd_rules *r)
{
	bool delays;
	unsigned first_packets;

	file_keys(r, &delays, &first_packets);
	return first_packets;
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
	struct vd_rules_config cfg = { .path = path, .plugin_path = plugin_path };

	return vd_rules_check_config(&cfg, out, errbuf);
}

VD_EXPORT int vd_rules_check_sized(const struct vd_rules_config *config, size_t cfg_size,
				   FILE *out, char *errbuf)
{
	struct vd_rules_config cfg;
	struct vd_ruleset_options opt;
	struct vd_ruleset *rs;

	if (vd_abi_copy_in(&cfg, sizeof(cfg), config, cfg_size) < 0) {
		vd_errbuf_set(errbuf, "rules: the program was built against a newer libverdict "
			      "(it sets settings this library does not know)");
		return -1;
	}
	opt = (struct vd_ruleset_options){
		.nworkers = 1, .plugin_path = cfg.plugin_path,
		.lua = { .memory_bytes = cfg.lua_memory, .instructions = cfg.lua_instructions,
			 .call_ms = cfg.lua_call_ms, .load_instructions = cfg.lua_load_instructions,
			 .load_ms = cfg.lua_load_ms },
		.kernel_mark_mask = cfg.kernel_mark_mask,
	};
	rs = vd_ruleset_load(cfg.path, &opt, errbuf, VD_ERRBUF_SIZE);

	/* One worker's worth of hooks: Lua states run the file and plugins
	 * initialise, so what would fail at start-up fails here. */
	if (!rs)
		return -1;
	/* A caller that names the field runs the rules that use it. */
	vd_ruleset_summary(rs, cfg.kernel_mark_mask != 0, out);
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
