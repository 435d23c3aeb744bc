/* reject_with.c - the names of a reject's answer, both ways (reject_with.h). */
#include <string.h>

#include "reject_with.h"

static const struct {
	const char *name;
	enum vd_reject_with with;
} names[] = {
	/* The IPv4 name of each value first: vd_reject_with_name finds it. */
	{ "icmp-port-unreachable", VD_REJECT_DEFAULT },
	{ "tcp-reset", VD_REJECT_TCP_RESET },
	{ "icmp-admin-prohibited", VD_REJECT_ADMIN_PROHIBITED },
	{ "icmp-host-unreachable", VD_REJECT_HOST_UNREACHABLE },
	{ "icmp6-port-unreachable", VD_REJECT_DEFAULT },
	{ "icmp6-adm-prohibited", VD_REJECT_ADMIN_PROHIBITED },
	{ "icmp6-addr-unreachable", VD_REJECT_HOST_UNREACHABLE },
};

bool vd_reject_with_parse(const char *name, size_t len, enum vd_reject_with *out)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == len && memcmp(names[i].name, name, len) == 0) {
			*out = names[i].with;
			return true;
		}
	return false;
}

const char *vd_reject_with_name(unsigned with)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((unsigned)names[i].with == with)
			return names[i].name;
	return "?";
}
