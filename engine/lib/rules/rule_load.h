/*
 * rule_load.h - read a rules file's returned table into struct vd_rule_file.
 *
 * The file is Lua; it runs in a sandboxed state (lua_hook.h) and returns
 *
 *     return {
 *       default = "accept",
 *       sets = { lan = { "198.18.0.0/15", "2001:db8::/32" } },
 *       rules = { { name = "ssh", proto = "tcp", dport = 22, src = "@lan",
 *                   verdict = "accept" }, ... },
 *     }
 *
 * A rule may also carry `set = { ttl = 7, dscp = "ef", ... }`, a rewrite
 * (rule_rewrite.h); a logs entry may not.
 *
 * Every error is one line naming the file, the rule (index and name) and the
 * key: `rules.lua: rule 3 "ssh": key "dprt": unknown key`.
 */
#ifndef VD_RULE_LOAD_H
#define VD_RULE_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "lua_hook.h"
#include "rule.h"

/* Reads the table L's file returned (vd_lua_load_file must have succeeded):
 * its list `list` ("rules", or "logs": the entries that filter log packets,
 * optional), with the top-level keys. A rule's mark may not set bits of
 * kernel_mark_mask (0: VD_KMARK_DEFAULT_MASK), the field the generated
 * kernel rules own. Returns 0, or -1 with the message in err (errlen
 * bytes). Interface names are resolved to indexes now (if_nametoindex). */
int vd_rule_file_read(struct vd_lua *L, const char *path, const char *list,
		      uint32_t kernel_mark_mask, struct vd_rule_file *out, char *err,
		      size_t errlen);

/* Takes a reference, in L, to the hook function of every Lua rule of f:
 * refs[i] for rule i, -1 for other rules. L must have run the same file
 * (each worker's state runs it on its own). Returns 0, or -1 with err. */
int vd_rule_file_lua_refs(struct vd_lua *L, const char *path, const char *list,
			  const struct vd_rule_file *f, int *refs, char *err, size_t errlen);

#endif
