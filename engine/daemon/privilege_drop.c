/* privilege_drop.c - from root to a user with CAP_NET_ADMIN alone (privilege_drop.h). */
#define _GNU_SOURCE /* getgrouplist */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "internal.h"
#include "privilege_drop.h"
#include "sanitizer.h" /* VD_SANITIZER_THREAD */

/* A decimal id; -1 when s is not one (then it is a name). */
static int parse_id(const char *s, unsigned long *id)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*id = strtoul(s, &end, 10);
	return errno || *end || *id >= (unsigned long)(uid_t)-1 ? -1 : 0;
}

int vd_privilege_target_resolve(const char *user, const char *group,
				struct vd_privilege_target *t, char *err, size_t errlen)
{
	const struct passwd *pw;
	unsigned long id;
	int n;

	*t = (struct vd_privilege_target){ .uid = (uid_t)-1, .gid = (gid_t)-1 };
	if (!user)
		return 0;
	pw = parse_id(user, &id) == 0 ? getpwuid((uid_t)id) : getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "--user: no user \"%s\" (a name from /etc/passwd or a "
			 "number that has an entry there)", user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "--user %s: is root; name the unprivileged user to run as",
			 user);
		return -1;
	}
	t->set = true;
	t->uid = pw->pw_uid;
	t->gid = pw->pw_gid;
	snprintf(t->name, sizeof(t->name), "%s", pw->pw_name);
	if (group) {
		const struct group *gr = parse_id(group, &id) == 0 ? getgrgid((gid_t)id)
								   : getgrnam(group);

		if (!gr) {
			snprintf(err, errlen, "--group: no group \"%s\" (a name from /etc/group "
				 "or a number that has an entry there)", group);
			return -1;
		}
		t->gid = gr->gr_gid;
		t->groups[0] = gr->gr_gid;
		t->ngroups = 1;
		return 0;
	}
	/* The user's own groups, as login gives them: what it may read. */
	n = (int)(sizeof(t->groups) / sizeof(t->groups[0]));
	if (getgrouplist(pw->pw_name, pw->pw_gid, t->groups, &n) < 0) {
		snprintf(err, errlen, "--user %s: in more than %zu groups (give --group)",
			 user, sizeof(t->groups) / sizeof(t->groups[0]));
		return -1;
	}
	t->ngroups = (size_t)n;
	return 0;
}

/* Capabilities are per thread: one thread is what makes the drop whole.
 * TSan's runtime keeps a thread of its own, which keeps root. */
static int single_threaded(char *err, size_t errlen)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");
	int threads = -1;

	if (!f) {
		snprintf(err, errlen, "/proc/self/status: %s (is /proc mounted?)", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &threads) == 1)
			break;
	fclose(f);
	if (threads == 1 || (VD_SANITIZER_THREAD && threads == 2))
		return 0;
	snprintf(err, errlen, "the process has %d threads where it should have one: their "
		 "capabilities would stay (a thread started before the drop)", threads);
	return -1;
}

/* P, E and I: exactly CAP_NET_ADMIN. */
static int keep_net_admin(void)
{
	cap_value_t keep = CAP_NET_ADMIN;
	cap_t caps = cap_init();
	int rc = -1;

	if (caps && cap_set_flag(caps, CAP_PERMITTED, 1, &keep, CAP_SET) == 0 &&
	    cap_set_flag(caps, CAP_EFFECTIVE, 1, &keep, CAP_SET) == 0 &&
	    cap_set_flag(caps, CAP_INHERITABLE, 1, &keep, CAP_SET) == 0)
		rc = cap_set_proc(caps);
	cap_free(caps);
	return rc;
}

/* The inheritable set may only gain what the bounding set holds: add
 * CAP_NET_ADMIN to it while root still has everything. */
static int inherit_net_admin(void)
{
	cap_value_t keep = CAP_NET_ADMIN;
	cap_t caps = cap_get_proc();
	int rc = -1;

	if (caps && cap_set_flag(caps, CAP_INHERITABLE, 1, &keep, CAP_SET) == 0)
		rc = cap_set_proc(caps);
	cap_free(caps);
	return rc;
}

static int bounding_clear(void)
{
	for (cap_value_t c = 0; c < (cap_value_t)cap_max_bits(); c++)
		if (cap_drop_bound(c) < 0)
			return -1;
	return 0;
}

/* The drop holds: root does not come back, and only CAP_NET_ADMIN is left. */
static int verify(const struct vd_privilege_target *t, char *err, size_t errlen)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;

	if (getresuid(&r, &e, &s) < 0 || getresgid(&gr, &ge, &gs) < 0 || r != t->uid ||
	    e != t->uid || s != t->uid || gr != t->gid || ge != t->gid || gs != t->gid) {
		snprintf(err, errlen, "--user %s: the ids did not all change", t->name);
		return -1;
	}
	if (setuid(0) == 0 || seteuid(0) == 0) {
		snprintf(err, errlen, "--user %s: root could be regained after the drop", t->name);
		return -1;
	}
	if (cap_get_bound(CAP_SYS_ADMIN) != 0 || cap_get_bound(CAP_NET_ADMIN) != 0) {
		snprintf(err, errlen, "--user %s: the bounding set is not empty", t->name);
		return -1;
	}
	return 0;
}

/* A uid change or file capabilities clear "dumpable", which closes
 * /proc/self/net to the process itself: the kernel watch reads the queues'
 * drops there (and LeakSanitizer's exit check needs to ptrace the process's
 * own threads). Setting it back opens nothing to the user's other
 * processes: ptrace and /proc/PID/mem still demand a superset of this
 * process's permitted capabilities, which they lack. */
static void dumpable_restore(void)
{
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

int vd_privilege_drop(const struct vd_privilege_target *t, char *err, size_t errlen)
{
	const char *step;

	if (single_threaded(err, errlen) < 0)
		return -1;
	step = "adding CAP_NET_ADMIN to the inheritable set";
	if (inherit_net_admin() < 0)
		goto fail;
	step = "emptying the bounding set";
	if (bounding_clear() < 0)
		goto fail;
	/* libcap's calls keep the permitted set across the uid change
	 * (PR_SET_KEEPCAPS). */
	step = "setting the groups";
	if (cap_setgroups(t->gid, t->ngroups, t->groups) < 0)
		goto fail;
	step = "setting the user";
	if (cap_setuid(t->uid) < 0)
		goto fail;
	step = "keeping CAP_NET_ADMIN alone";
	if (keep_net_admin() < 0)
		goto fail;
	step = "emptying the ambient set";
	if (cap_reset_ambient() < 0)
		goto fail;
	step = "setting no_new_privs";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		goto fail;
	dumpable_restore();
	return verify(t, err, errlen);
fail:
	snprintf(err, errlen, "--user %s: %s: %s", t->name, step, strerror(errno));
	return -1;
}

int vd_privilege_trim(char *err, size_t errlen)
{
	if (geteuid() == 0) {
		vd_log(VD_LOG_WARN, "running as root with every capability: give --user NAME to "
		       "keep CAP_NET_ADMIN alone after start-up");
		return 0;
	}
	/* An unprivileged start (setcap cap_net_admin+ep): the bounding set
	 * needs CAP_SETPCAP to shrink, which this process does not have. */
	if (keep_net_admin() < 0 || cap_reset_ambient() < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "keeping CAP_NET_ADMIN alone: %s", strerror(errno));
		return -1;
	}
	dumpable_restore();
	return 0;
}

/* Root that stays root with CAP_SYS_NICE sets SCHED_FIFO without a limit. */
static bool sys_nice_kept(bool keeps_root)
{
	cap_flag_value_t on = CAP_CLEAR;
	cap_t caps;

	if (!keeps_root || geteuid() != 0 || !(caps = cap_get_proc()))
		return false;
	cap_get_flag(caps, CAP_SYS_NICE, CAP_EFFECTIVE, &on);
	cap_free(caps);
	return on == CAP_SET;
}

int vd_privilege_realtime_allow(int priority, bool keeps_root, char *err, size_t errlen)
{
	struct rlimit lim;

	if (getrlimit(RLIMIT_RTPRIO, &lim) < 0) {
		snprintf(err, errlen, "--realtime %d: reading RLIMIT_RTPRIO: %s", priority,
			 strerror(errno));
		return -1;
	}
	if (lim.rlim_cur >= (rlim_t)priority && lim.rlim_max >= (rlim_t)priority)
		return 0;
	/* The kernel checks the soft limit, which the hard one bounds. */
	if (lim.rlim_cur < (rlim_t)priority)
		lim.rlim_cur = (rlim_t)priority;
	if (lim.rlim_max < (rlim_t)priority)
		lim.rlim_max = (rlim_t)priority;
	if (setrlimit(RLIMIT_RTPRIO, &lim) < 0 && !(errno == EPERM && sys_nice_kept(keeps_root))) {
		snprintf(err, errlen, "--realtime %d: raising RLIMIT_RTPRIO to %d: %s%s", priority,
			 priority, strerror(errno),
			 errno == EPERM ? " (a hard limit below it needs CAP_SYS_RESOURCE "
					  "to raise: start verdictd with it, e.g. systemd's "
					  "LimitRTPRIO=)" : "");
		return -1;
	}
	return 0;
}
