/*
 * rule_values.h - the values of rules file keys (addresses, ports, ranges,
 * protocols, interfaces, marks, TCP flags, conntrack states, verdicts) and
 * the loader state their error messages need. Private to rule_load.c and
 * rule_values.c.
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

struct loader {
	lua_State *L;
	const char *path;
	char *err;
	size_t errlen;
	int sets;               /* stack index of the sets table, 0 if none */
	const struct vd_rule *rule; /* the rule being read, for messages */
	const char *key;        /* the key being read, for messages */
	const char *list;       /* "rules" or "logs" */
};

/* Writes "FILE: [rule N "NAME": ][key "K": ]what" to ld->err; returns -1. */
int vd_rule_fail(struct loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reads one item of a key's value into arg (a struct vd_rule_dim_spec, or
 * the ct_states bits for vd_rule_ct_item). */
typedef int (*item_fn)(struct loader *ld, void *arg);

/* Calls one on the value, or on each element when it is a list. */
int vd_rule_each_item(struct loader *ld, item_fn one, void *arg);

int vd_rule_port_item(struct loader *ld, void *arg);    /* 22, "8000-8999" */
int vd_rule_address_item(struct loader *ld, void *arg); /* "198.18.0.0/15", "@set" */
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
/* "accept", "drop", "repeat" (and "queue" when allow_queue). */
int vd_rule_read_verdict_name(struct loader *ld, struct vd_verdict *v, bool allow_queue);
/* A string, strdup'ed into *out (the old value freed). */
int vd_rule_read_string(struct loader *ld, char **out);

#endif
