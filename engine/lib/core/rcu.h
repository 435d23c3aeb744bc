/*
 * rcu.h - the liburcu QSBR calls verdictd makes, made visible to
 * ThreadSanitizer.
 *
 * liburcu publishes pointers and tracks grace periods with inline assembly
 * and volatile accesses that TSan cannot see, so under TSan every reader's
 * access to a table would look like a race with the reloader that freed it.
 * These wrappers add the happens-before edges RCU guarantees, and nothing
 * else: a reader releases a token before each quiescent state (or going
 * offline), and the writer acquires it after synchronize_rcu; a publisher
 * releases the pointer's address and a reader acquires it after the
 * dereference. Outside TSan builds they are exactly the liburcu calls.
 *
 * Threading: the reader calls (vd_rcu_quiescent, vd_rcu_offline,
 * vd_rcu_online, vd_rcu_read) from a registered QSBR thread; the writer calls
 * from any thread, never while a reader waits on it.
 */
#ifndef VD_RCU_H
#define VD_RCU_H

/* Inline fast paths, except under TSan: instrumented, liburcu's own
 * lock-free internals would be reported; the library's copies are not. */
#if !defined(_LGPL_SOURCE) && !defined(__SANITIZE_THREAD__)
#define _LGPL_SOURCE
#endif
#include <urcu-qsbr.h>

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
extern char vd_rcu_tsan_token;
#define VD_TSAN_RELEASE(addr) __tsan_release((void *)(addr))
#define VD_TSAN_ACQUIRE(addr) __tsan_acquire((void *)(addr))
#else
#define VD_TSAN_RELEASE(addr) ((void)0)
#define VD_TSAN_ACQUIRE(addr) ((void)0)
#endif

/* Reader: done with everything read so far (once per batch). */
static inline void vd_rcu_quiescent(void)
{
	VD_TSAN_RELEASE(&vd_rcu_tsan_token);
	rcu_quiescent_state();
}

/* Reader: about to block (in recv); holds no RCU-protected pointer. */
static inline void vd_rcu_offline(void)
{
	VD_TSAN_RELEASE(&vd_rcu_tsan_token);
	rcu_thread_offline();
}

static inline void vd_rcu_online(void)
{
	rcu_thread_online();
}

/* Reader: the current value of an RCU-published pointer. */
#define vd_rcu_read(pp)                        \
	({                                     \
		__typeof__(*(pp)) _p = rcu_dereference(*(pp)); \
		VD_TSAN_ACQUIRE(pp);           \
		_p;                            \
	})

/* Writer: publish p at *pp, returning the old value. */
#define vd_rcu_publish(pp, p)                  \
	({                                     \
		VD_TSAN_RELEASE(pp);           \
		rcu_xchg_pointer((pp), (p));   \
	})

/* Writer: wait until no reader can hold what was unpublished before. */
static inline void vd_rcu_synchronize(void)
{
	synchronize_rcu();
	VD_TSAN_ACQUIRE(&vd_rcu_tsan_token);
}

#endif
