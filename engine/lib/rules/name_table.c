/* name_table.c - open addressing with linear probing (name_table.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "name_table.h"

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h ^ (h >> 31);
}

static size_t probe(const struct vd_name_table *t, const char *name)
{
	size_t s = name_hash(name) & (t->cap - 1);

	while (t->names[s] && strcmp(t->names[s], name) != 0)
		s = (s + 1) & (t->cap - 1);
	return s;
}

static int table_alloc(struct vd_name_table *t, size_t cap)
{
	t->names = calloc(cap, sizeof(*t->names));
	t->values = calloc(cap, sizeof(*t->values));
	t->cap = cap;
	t->n = 0;
	if (!t->names || !t->values) {
		vd_name_table_free(t);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int vd_name_table_init(struct vd_name_table *t, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	return table_alloc(t, cap);
}

void vd_name_table_free(struct vd_name_table *t)
{
	free(t->names);
	free(t->values);
	memset(t, 0, sizeof(*t));
}

bool vd_name_table_get(const struct vd_name_table *t, const char *name, unsigned *value)
{
	size_t s;

	if (!t->cap)
		return false;
	s = probe(t, name);
	if (!t->names[s])
		return false;
	*value = t->values[s];
	return true;
}

int vd_name_table_put(struct vd_name_table *t, const char *name, unsigned value)
{
	size_t s;

	if (2 * (t->n + 1) > t->cap) {
		struct vd_name_table old = *t;

		if (table_alloc(t, old.cap ? old.cap * 2 : 16) < 0) {
			*t = old;
			return -1;
		}
		for (size_t i = 0; i < old.cap; i++)
			if (old.names[i])
				vd_name_table_put(t, old.names[i], old.values[i]);
		vd_name_table_free(&old);
	}
	s = probe(t, name);
	t->names[s] = name;
	t->values[s] = value;
	t->n++;
	return 0;
}
