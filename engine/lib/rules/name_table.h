/*
 * name_table.h - a hash table from rule names to numbers.
 *
 * Rule names are unique within a table (ruleset.c) and key the hit counters
 * across reloads (rules.c): both look names up in O(1), so a table of
 * 100,000 rules costs no more per name than one of ten. The table borrows
 * the names: they must outlive it. Single-threaded (the loading thread).
 */
#ifndef VD_NAME_TABLE_H
#define VD_NAME_TABLE_H

#include <stdbool.h>
#include <stddef.h>

struct vd_name_table {
	const char **names; /* NULL: empty slot */
	unsigned *values;
	size_t cap, n;      /* cap a power of two, n <= cap / 2 */
};

/* An empty table with room for n names without growing. Returns 0, or -1
 * with errno ENOMEM. */
int vd_name_table_init(struct vd_name_table *t, size_t n);
void vd_name_table_free(struct vd_name_table *t);

/* The value of name, or false when absent. */
bool vd_name_table_get(const struct vd_name_table *t, const char *name, unsigned *value);

/* Adds name (absent) with value. Returns 0, or -1 with errno ENOMEM. */
int vd_name_table_put(struct vd_name_table *t, const char *name, unsigned value);

#endif
