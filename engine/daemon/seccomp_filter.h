/*
 * seccomp_filter.h - the system calls verdictd may make once it is set up
 * (libseccomp): receiving and answering packets, its timers and threads,
 * the control socket, writing its outputs, loading rules and plugins at a
 * reload, and what a spawned iptables-restore needs (a filter is inherited
 * across fork and execve). Sockets: AF_UNIX and AF_NETLINK only.
 *
 * A call outside the list raises SIGSYS (SCMP_ACT_TRAP): the handler writes
 * one line naming the call's number to stderr, and the process then dies of
 * the SIGSYS. Killing beats EPERM here: a call nobody foresaw is a bug or an
 * attack, and a refused call that the code does not expect to fail could
 * turn into a wrong verdict; the daemon's death is what --queue-bypass and
 * --fail-open are for. Threads must not block SIGSYS (the kernel then kills
 * without the line): the engine's workers leave it unblocked.
 *
 * Threading: install on the main thread before any other thread starts
 * (they inherit the filter; no TSYNC is needed).
 */
#ifndef VD_SECCOMP_FILTER_H
#define VD_SECCOMP_FILTER_H

#include <stdbool.h>
#include <stddef.h>

/* Installs the filter on the calling thread (and what it starts later),
 * with no_new_privs. realtime (--realtime) also allows what pthread_create
 * makes for a SCHED_FIFO thread: sched_setscheduler with that policy only,
 * and the priority range queries. Returns -1 with one line in err. */
int vd_seccomp_filter_install(bool realtime, char *err, size_t errlen);

#endif
