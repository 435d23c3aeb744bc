/*
 * rule_index_dir.h - private to rule_index.c and rule_index_dir.c: the
 * directory's builder and the allocator of the arrays lookups hit.
 */
#ifndef VD_RULE_INDEX_DIR_H
#define VD_RULE_INDEX_DIR_H

#include <stddef.h>

#include "rule_index.h"

/* bytes on 64-byte lines (big arrays: on huge pages where the kernel has
 * them); freed with free(). NULL when out of memory. */
void *vd_rule_index_lookup_alloc(size_t bytes);

/* Builds ix->dir over ix->intervals when they are many (otherwise leaves it
 * NULL). Returns 0, or -1 on ENOMEM. */
int vd_rule_index_dir_build(struct vd_rule_index *ix);

#endif
