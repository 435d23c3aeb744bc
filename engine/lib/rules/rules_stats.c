/* rules_stats.c - the rule table's counters read back (rules.c counts them):
 * sums over the workers' banks, under the table lock so that names stay
 * valid, for any thread. */
#include <stdio.h>
#include <time.h>

#include <verdict/rules.h>

#include "export.h"
#include "rules_internal.h"
#include "internal/internal.h"

unsigned vd_rules_slot_count(const struct vd_rules *r)
{
	return r->nslots;
}

static uint64_t bank_sum(const struct vd_rules *r, enum rule_counter k, unsigned slot)
{
	uint64_t sum = 0;

	for (unsigned w = 0; w < r->cfg.nworkers; w++)
		sum += __atomic_load_n(counter_of(r->bank[k], w, slot), __ATOMIC_RELAXED);
	return sum;
}

/* held and released per worker: what the workers counted, or, once the
 * worker's last release time has passed, everything it delayed. */
static void held_of_slot(const struct vd_rules *r, unsigned slot, struct vd_rule_stats *out)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	out->held = out->released = 0;
	for (unsigned w = 0; w < r->cfg.nworkers; w++) {
		/* Acquire: pairs with the delayed count's release in eval. */
		uint64_t delayed = __atomic_load_n(counter_of(r->bank[COUNTER_DELAYED], w, slot),
						   __ATOMIC_ACQUIRE);
		uint64_t released = __atomic_load_n(counter_of(r->bank[COUNTER_RELEASED], w, slot),
						    __ATOMIC_RELAXED);
		uint64_t last = __atomic_load_n(counter_of(r->bank[COUNTER_LAST_RELEASE], w, slot),
						__ATOMIC_RELAXED);

		if (last <= now || released > delayed)
			released = delayed;
		out->held += delayed - released;
		out->released += released;
	}
}

static void stats_of_slot(const struct vd_rules *r, unsigned slot, struct vd_rule_stats *out)
{
	out->hits = bank_sum(r, COUNTER_HITS, slot);
	out->errors = bank_sum(r, COUNTER_ERRORS, slot);
	out->rewrite_errors = bank_sum(r, COUNTER_REWRITE_ERRORS, slot);
	out->delayed = bank_sum(r, COUNTER_DELAYED, slot);
	out->loss_dropped = bank_sum(r, COUNTER_LOSS_DROPPED, slot);
	out->limit_dropped = bank_sum(r, COUNTER_LIMIT_DROPPED, slot);
	out->held_max = bank_sum(r, COUNTER_HELD_MAX, slot);
	held_of_slot(r, slot, out);
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

		snprintf(st.name, sizeof(st.name), "%s", i ? rs->file.rules[i - 1].name : "(default)");
		st.index = i ? rs->file.rules[i - 1].index : 0;
		stats_of_slot(r, slot, &st);
		/* The caller's array has elements of its own version's size. */
		vd_abi_copy_out((char *)out + i * elem_size, elem_size, &st, sizeof(st));
	}
	pthread_mutex_unlock(&r->table_lock);
	return n;
}

/* internal.h: not exported from libverdict.so, the daemon links the static
 * library. */
int vd_rules_table_read(struct vd_rules *r, int (*fn)(const struct vd_rule_file *f, void *arg),
			void *arg)
{
	int ret;

	pthread_mutex_lock(&r->table_lock);
	ret = fn(&r->current->file, arg);
	pthread_mutex_unlock(&r->table_lock);
	return ret;
}
