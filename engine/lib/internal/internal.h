/*
 * internal.h - the one internal API libverdict declares for the verdictd
 * daemon, beyond include/verdict/. Nothing here is exported from
 * libverdict.so: the daemon links the static library.
 *
 * - vd_log / vd_errbuf_set: the library's diagnostics, so that the daemon's
 *   own lines go through the same handler (verdict/log.h) as the library's.
 * - vd_rules_table_read: the live table's rules as the loader read them
 *   (rule.h), for the daemon's kernel offload, which turns the leading ones
 *   into iptables rules. Read-only; the library knows nothing of iptables.
 * - vd_nl_msg_ok / vd_nl_msg_next (netlink/nl_attr.h): the one walk over the
 *   messages of a netlink datagram, lengths compared unsigned (libmnl's
 *   mnl_nlmsg_ok casts them to int), for the daemon's nf_tables rule dumps.
 * - vd_nl_socket_open (netlink/nl_socket.h): the one NETLINK_NETFILTER
 *   socket set-up (bound, close-on-exec, receive timeout), for those dumps.
 */
#ifndef VD_INTERNAL_H
#define VD_INTERNAL_H

#include <verdict/rules.h>

#include "../core/log.h"
#include "../netlink/nl_attr.h"
#include "../netlink/nl_socket.h"
#include "../rules/rule.h"

/* Calls fn(f, arg) with the rules of r's live table and returns what fn
 * returns. It runs under the lock the stats take: a reload waits to switch
 * tables until fn is done, so f stays valid (and the same) throughout; fn
 * must not call back into r. Any thread. */
int vd_rules_table_read(struct vd_rules *r, int (*fn)(const struct vd_rule_file *f, void *arg),
			void *arg);

#endif
