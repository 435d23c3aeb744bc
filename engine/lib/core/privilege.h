/* privilege.h - what this process may do (libcap). */
#ifndef VD_PRIVILEGE_H
#define VD_PRIVILEGE_H

#include <stdbool.h>

/* True when CAP_NET_ADMIN is in the effective set (what binding a queue needs). */
bool vd_privilege_has_net_admin(void);

#endif
