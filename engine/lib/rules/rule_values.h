/*
 * rule_values.h - the values of rules file keys (addresses, ports, ranges,
 * protocols, interfaces, marks, TCP flags, conntrack states, verdicts), the
 * named sets (rule_sets.c), and the loader state their error messages need.
 * Private to rule_load.c, rule_values.c and rule_sets.c.
 *
 * Every reader takes the value at the top of ld->L's stack, leaves the stack
 * as it found it, and returns 0, or -1 after writing one line to ld->err
 * through vd_rule_fail ("FILE: rule N \"NAME\": key \"K\": what").
 */
#ifndef VD_RULE_VALUES_H
#define VD_RULE_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "rule.h"

/* How deep sets may name sets: a rule's "@a" reaches at most this many sets
 * down, a itself included. */
#define VD_RULE_SET_DEPTH 16

struct loader {
	lua_State *L;
	const char *path;
	char *err;
	size_t errlen;
	int sets;               /* stack index of the sets table, 0 if none */
	const struct vd_rule *rule; /* the rule being read, for messages */
	const char *key;        /* the key being read, for messages */
	const char *list;       /* "rules" or "logs" */
	uint32_t kernel_mark_mask; /* the generated rules' field: no rule's mark in it */
	/* Set resolution (vd_rule_sets_check, "@name" items). */
	const char *set;        /* the set being read, for messages */
	int set_marks;          /* stack index: set name -> pass that read it */
	lua_Integer set_pass;   /* the current pass: one per "@name" of a rule */
	unsigned set_depth;     /* sets on set_path */
	unsigned set_deepest;   /* the check: how deep the current walk reached */
	const char *set_path[VD_RULE_SET_DEPTH];
};

/* Writes "FILE: [rule N "NAME": ][key "K": ][set "S": ]what" to ld->err,
 * control characters escaped (\x0a): one line, always. Returns -1. */
int vd_rule_fail(struct loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The string at idx (lua_type LUA_TSTRING, checked by the caller), or NULL
 * after vd_rule_fail when it holds a NUL byte: C would read it cut short. */
const char *vd_rule_text(struct loader *ld, int idx);

/* Refuses (-1) a table at idx with a metatable: the loader reads tables raw,
 * and a metamethod would run without a budget. Makes room on the stack to
 * walk it (lua_next and a value). */
int vd_rule_plain_table(struct loader *ld, int idx);

/* The length of the list at the top of the stack into *n: a plain table
 * whose keys are exactly 1..n (no holes, no names, may be empty). */
int vd_rule_list_len(struct loader *ld, lua_Integer *n);

/* Checks every set of the sets table (ld->sets, may be 0) once: values are
 * addresses, prefixes or declared "@name"s, no set reaches itself and none
 * nests more than VD_RULE_SET_DEPTH deep. "@name" items may be read after
 * it succeeded, with ld->set_marks the index of an empty table the caller
 * pushed: it keeps a rule from reading a set twice. */
int vd_rule_sets_check(struct loader *ld);

/* Reads one item of a key's value into arg (a struct vd_rule_dim_spec, or
 * the ct_states bits for vd_rule_ct_item). */
typedef int (*item_fn)(struct loader *ld, void *arg);

/* Calls one on the value, or on each element when it is a list. */
int vd_rule_each_item(struct loader *ld, item_fn one, void *arg);

int vd_rule_port_item(struct loader *ld, void *arg);    /* 22, "8000-8999" */
/* "198.18.0.0/15", "@set"; arg NULL only checks the value. */
int vd_rule_address_item(struct loader *ld, void *arg);
/* "@name" (without the "@"): the addresses of a set declared under `sets`,
 * into arg (NULL: only checked), through the sets it names (rule_sets.c). */
int vd_rule_set_items(struct loader *ld, const char *name, void *arg);
int vd_rule_proto_item(struct loader *ld, void *arg);   /* "tcp", 47 */
int vd_rule_iface_item(struct loader *ld, void *arg);   /* "eth0", 2 */
int vd_rule_ct_item(struct loader *ld, void *arg);      /* "new", ... into uint32_t bits */

/* A whole number in [min, max]. */
int vd_rule_read_uint(struct loader *ld, uint64_t min, uint64_t max, uint64_t *out);
/* A number or a "low-high" range string, within [0, max]. */
int vd_rule_read_range(struct loader *ld, uint64_t max, uint64_t *lo, uint64_t *hi);
/* 0x10, "0x10/0xf0" or { value = 0x10, mask = 0xf0 } (mask 0xffffffff when
 * not given: the value is the whole mark). */
int vd_rule_read_masked(struct loader *ld, uint32_t *value, uint32_t *mask);
/* "syn,!ack": (flags & mask) == value. */
int vd_rule_read_tcp_flags(struct loader *ld, uint8_t *mask, uint8_t *value);
/* Which verdicts a key takes: a rule's verdict all four, a logs entry's
 * (write or not), the default and on_error accept or drop. */
enum vd_rule_verdicts { VD_RULE_ACCEPT_DROP, VD_RULE_ANY_VERDICT };
/* "accept", "drop" (and "repeat", "reject", "queue" for VD_RULE_ANY_VERDICT). */
int vd_rule_read_verdict_name(struct loader *ld, struct vd_verdict *v, enum vd_rule_verdicts which);
/* A string without NUL bytes, strdup'ed into *out (the old value freed). */
int vd_rule_read_string(struct loader *ld, char **out);

#endif
