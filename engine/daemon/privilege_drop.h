/*
 * privilege_drop.h - verdictd gives up root once it is set up (--user,
 * --group): it switches to the user, keeps CAP_NET_ADMIN alone (netlink
 * checks it for every verdict batch, not only at bind), empties the bounding
 * and ambient sets and sets no_new_privs.
 *
 * Capabilities are per thread: the drop runs while the process has one
 * thread (after the engine bound its queues and groups, before it starts
 * their workers; reload threads are created later and inherit it), and
 * refuses to run otherwise. That is simpler than libcap's psx, which has to
 * interpose pthread_create and signal every thread.
 *
 * Threading: main thread only, before any other thread exists.
 */
#ifndef VD_PRIVILEGE_DROP_H
#define VD_PRIVILEGE_DROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Who to become: resolved at start-up, before anything is opened, so that
 * an unknown name is an exit-status-2 error and no NSS lookup runs later. */
struct vd_privilege_target {
	bool set;          /* --user or --group given */
	uid_t uid;         /* (uid_t)-1: keep */
	gid_t gid;
	gid_t groups[64];  /* supplementary groups: the user's, or gid alone */
	size_t ngroups;
	char name[64];     /* for messages */
};

/* --user NAME|UID and --group NAME|GID (either may be NULL) into t: the
 * user's primary group and its supplementary groups unless --group names
 * one. Returns -1 with one line in err naming the option and the value. */
int vd_privilege_target_resolve(const char *user, const char *group,
				struct vd_privilege_target *t, char *err, size_t errlen);

/* Becomes t: groups, gid, uid, with permitted, effective and inheritable
 * sets of exactly CAP_NET_ADMIN (inheritable: so that a spawned
 * iptables-restore may raise it into its ambient set), empty bounding and
 * ambient sets, no_new_privs; then checks that root cannot come back.
 * Returns -1 with err filled (the process may then be half-dropped: the
 * caller exits). */
int vd_privilege_drop(const struct vd_privilege_target *t, char *err, size_t errlen);

/* Without --user: trims what an unprivileged start (setcap cap_net_admin+ep)
 * (or systemd's User= with AmbientCapabilities=) holds to the same
 * CAP_NET_ADMIN in permitted, effective and inheritable, an empty ambient
 * set, sets no_new_privs, and warns once when the process runs as root with its
 * full capabilities. Never fails: returns -1 with err filled when the trim
 * did not apply (the caller logs it). */
int vd_privilege_trim(char *err, size_t errlen);

/* --realtime PRIO: raises RLIMIT_RTPRIO, soft and hard, to priority when
 * it is lower, so that the queue workers, started after the drop without
 * CAP_SYS_NICE, may still run SCHED_FIFO at priority (the limit is the
 * process's and survives the uid change). Before vd_privilege_drop and the
 * seccomp filter (which refuses setrlimit). keeps_root: no --user; a limit
 * that cannot be raised is then no error while root holds CAP_SYS_NICE
 * (vd_privilege_trim keeps it, and the kernel needs no limit then: as in a
 * container without CAP_SYS_RESOURCE). Returns -1 with one line in err
 * naming the limit and the cause (raising the hard limit needs root with
 * CAP_SYS_RESOURCE). */
int vd_privilege_realtime_allow(int priority, bool keeps_root, char *err, size_t errlen);

#endif
