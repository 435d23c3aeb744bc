/* privilege.c - capability checks, for errors that say what is missing. */
#include <sys/capability.h>

#include "privilege.h"

bool vd_privilege_has_net_admin(void)
{
	cap_flag_value_t value = CAP_CLEAR;
	cap_t caps = cap_get_proc();

	if (!caps)
		return false;
	if (cap_get_flag(caps, CAP_NET_ADMIN, CAP_EFFECTIVE, &value) != 0)
		value = CAP_CLEAR;
	cap_free(caps);
	return value == CAP_SET;
}
