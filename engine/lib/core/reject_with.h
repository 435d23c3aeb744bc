/*
 * reject_with.h - the names of enum vd_reject_with (verdict/verdict.h), as
 * iptables' REJECT --reject-with spells them: one table for the rules file,
 * Lua returns and --check.
 */
#ifndef VD_REJECT_WITH_H
#define VD_REJECT_WITH_H

#include <stdbool.h>
#include <stddef.h>

#include <verdict/verdict.h>

/* The names every value takes, for messages. */
#define VD_REJECT_WITH_NAMES                                                           \
	"\"tcp-reset\", \"icmp-port-unreachable\", \"icmp-admin-prohibited\", "         \
	"\"icmp-host-unreachable\" (or the icmp6- names)"

/* Reads name[0, len) (not NUL-terminated: Lua strings are read in place):
 * an ICMP name or its ICMPv6 counterpart (icmp6-adm-prohibited,
 * icmp6-addr-unreachable, ...) gives the same value. False when unknown. */
bool vd_reject_with_parse(const char *name, size_t len, enum vd_reject_with *out);

/* The IPv4 name of with ("icmp-port-unreachable", ...), "?" when unknown. */
const char *vd_reject_with_name(unsigned with);

#endif
