/*
 * file_trust.h - may a process running as root load this file? (rules files
 * run Lua at load time; plugins are native code with the daemon's
 * privileges.)
 *
 * As sshd's StrictModes: when the effective uid is 0, or the process holds
 * CAP_NET_ADMIN (verdictd after --user, or started with setcap), a file is
 * refused when a user other than root and the process's own could change
 * what it holds: the file, or any directory on its path, is owned by another
 * user, or is writable by its group or by everyone. A directory that is writable by everyone but sticky
 * (/tmp) is allowed: there only an entry's owner may replace it, and the
 * next component is checked in turn. Symbolic links are followed (realpath)
 * and the file they lead to is checked, with its directories.
 */
#ifndef VD_FILE_TRUST_H
#define VD_FILE_TRUST_H

#include <stddef.h>

/* what ("rules file", "plugin") starts the message. Returns 0 when the file
 * may be loaded (always, for a process without root or CAP_NET_ADMIN); -1
 * with errno EPERM (or stat's errno) and one line in err naming the
 * offending path. */
int vd_file_trust_check(const char *path, const char *what, char *err, size_t errlen);

#endif
