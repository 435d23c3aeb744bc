/* seccomp_filter.c - verdictd's system call allow-list (seccomp_filter.h). */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sanitizer.h"
#include "seccomp_filter.h"

/*
 * By what needs them. Names this architecture lacks are skipped (libseccomp
 * resolves each), so the list holds the old and new variants alike. The
 * spawned iptables-restore/ip6tables-restore/iptables-save were measured with
 * `strace -f -c`: everything they make is below.
 */
static const char *const allowed[] = {
	/* packets and the control socket (socket() itself: see below) */
	"recvmsg", "recvmmsg", "recvfrom", "sendmsg", "sendmmsg", "sendto", "accept",
	"accept4", "getsockopt", "setsockopt", "getsockname", "getpeername", "bind",
	"connect", "shutdown", "socketpair",
	/* the main loop, its timers, signals and the reload's eventfd */
	"poll", "ppoll", "select", "pselect6", "epoll_create1", "epoll_ctl", "epoll_wait",
	"epoll_pwait", "epoll_pwait2", "eventfd2", "signalfd4", "timerfd_create",
	"timerfd_settime", "timerfd_gettime", "clock_gettime", "clock_getres",
	"clock_nanosleep", "nanosleep", "gettimeofday", "time", "rt_sigaction",
	"rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait", "sigaltstack", "restart_syscall",
	"getrusage", "times",
	/* threads: workers, the reload thread */
	"clone", "clone3", "futex", "set_robust_list", "get_robust_list", "rseq",
	"set_tid_address", "membarrier", "sched_yield", "sched_getaffinity",
	"sched_setaffinity", "gettid", "getpid", "getppid", "tgkill", "tkill", "exit",
	"exit_group",
	/* outputs (SIGHUP reopens them) and loading rules and plugins at a reload */
	"read", "readv", "pread64", "write", "writev", "pwrite64", "lseek", "close",
	"close_range", "dup", "dup2", "dup3", "fcntl", "ioctl", "openat", "open", "creat",
	"stat", "fstat", "lstat", "newfstatat", "statx", "fstatfs", "statfs", "access",
	"faccessat", "faccessat2", "readlink", "readlinkat", "getdents", "getdents64", "getcwd",
	"rename", "renameat", "renameat2", "unlink", "unlinkat", "fsync", "fdatasync",
	"ftruncate", "fadvise64", "fchmod", "fchmodat", "brk", "mmap", "munmap", "mprotect", "mremap", "madvise",
	"getrandom", "uname", "sysinfo",
	/* spawning iptables-restore: fork, exec, pipes and a socketpair, wait;
	 * what it makes itself */
	"vfork", "fork", "execve", "pipe", "pipe2", "wait4", "waitid", "kill", "prctl",
	"capget", "arch_prctl", "prlimit64", "getrlimit", "getuid", "geteuid", "getgid",
	"getegid", "getresuid", "getresgid", "getgroups", "umask", "setpgid", "getpgrp",
	"setsid",
};

/* --realtime: glibc's pthread_create checks the priority against the
 * policy's range, then sets the new thread's policy (realtime_rule). */
static const char *const realtime_allowed[] = {
	"sched_get_priority_min", "sched_get_priority_max",
};

/* LeakSanitizer's exit check stops the threads through ptrace from a
 * clone of its own. */
static const char *const sanitizer_allowed[] = {
	"ptrace", "process_vm_readv", "mincore", "setrlimit", "sched_getparam",
	"sched_getscheduler",
};

/* Async-signal-safe: one line, the call's number in decimal. The SIGSYS
 * stays pending (blocked in its handler) and kills once it returns. */
static void refused(int sig, siginfo_t *si, void *ctx)
{
	static const char head[] = "verdictd: error: seccomp: system call ";
	static const char tail[] = " is not on verdictd's allow-list: stopping (scmp_sys_resolver"
				   " names the number; --no-seccomp turns the filter off)\n";
	char num[16];
	int n = si->si_syscall, len = 0;
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	(void)ctx;
	do {
		num[sizeof(num) - 1 - len++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0 && len < (int)sizeof(num));
	/* A failed write has nowhere else to go: the results are dropped. */
	(void)!write(STDERR_FILENO, head, sizeof(head) - 1);
	(void)!write(STDERR_FILENO, num + sizeof(num) - len, (size_t)len);
	(void)!write(STDERR_FILENO, tail, sizeof(tail) - 1);
	sigaction(SIGSYS, &dfl, NULL);
	raise(sig);
}

static int allow_names(scmp_filter_ctx ctx, const char *const *names, size_t n, char *err,
		       size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		int rc;

		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (rc < 0) {
			snprintf(err, errlen, "seccomp: allowing %s: %s", names[i], strerror(-rc));
			return -1;
		}
	}
	return 0;
}

/* socket(): the queues' and groups' netlink, the control socket's unix
 * family; no network sockets. iptables-restore, which runs under this filter
 * too (a filter is inherited across execve), opens an IPv4/IPv6 datagram
 * socket for some matches (seen with udp ports) and copes with a refusal:
 * those fail with EACCES rather than killing it. */
static int socket_rule(scmp_filter_ctx ctx, uint32_t action, int family, char *err,
		       size_t errlen)
{
	int rc = seccomp_rule_add(ctx, action, SCMP_SYS(socket), 1,
				  SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)family, 0));

	if (rc < 0)
		snprintf(err, errlen, "seccomp: the socket() rule for family %d: %s", family,
			 strerror(-rc));
	return rc < 0 ? -1 : 0;
}

static int allow_sockets(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	if (socket_rule(ctx, SCMP_ACT_ERRNO(EACCES), AF_INET, err, errlen) < 0 ||
	    socket_rule(ctx, SCMP_ACT_ERRNO(EACCES), AF_INET6, err, errlen) < 0 ||
	    socket_rule(ctx, SCMP_ACT_ALLOW, AF_UNIX, err, errlen) < 0 ||
	    socket_rule(ctx, SCMP_ACT_ALLOW, AF_NETLINK, err, errlen) < 0)
		return -1;
	return 0;
}

/* sched_setscheduler to SCHED_FIFO only: no other policy, such as
 * SCHED_RR or SCHED_DEADLINE, that nothing here asks for. */
static int realtime_rule(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	int rc;

	if (allow_names(ctx, realtime_allowed, sizeof(realtime_allowed) / sizeof(realtime_allowed[0]),
			err, errlen) < 0)
		return -1;
	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sched_setscheduler), 1,
			      SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)SCHED_FIFO, 0));
	if (rc < 0)
		snprintf(err, errlen, "seccomp: the sched_setscheduler rule: %s", strerror(-rc));
	return rc < 0 ? -1 : 0;
}

int vd_seccomp_filter_install(bool realtime, char *err, size_t errlen)
{
	struct sigaction sa = { .sa_sigaction = refused, .sa_flags = SA_SIGINFO };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int rc = -1;

	if (!ctx) {
		snprintf(err, errlen, "seccomp: cannot make a filter (out of memory)");
		return -1;
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		snprintf(err, errlen, "seccomp: SIGSYS handler: %s", strerror(errno));
		goto out;
	}
	if (allow_names(ctx, allowed, sizeof(allowed) / sizeof(allowed[0]), err, errlen) < 0 ||
	    (VD_SANITIZER && allow_names(ctx, sanitizer_allowed,
					 sizeof(sanitizer_allowed) / sizeof(sanitizer_allowed[0]),
					 err, errlen) < 0) ||
	    allow_sockets(ctx, err, errlen) < 0 || (realtime && realtime_rule(ctx, err, errlen) < 0))
		goto out;
	rc = seccomp_load(ctx);
	if (rc < 0) {
		snprintf(err, errlen, "seccomp: loading the filter: %s", strerror(-rc));
		rc = -1;
	}
out:
	seccomp_release(ctx);
	return rc;
}
