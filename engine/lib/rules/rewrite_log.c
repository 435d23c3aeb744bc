/* rewrite_log.c - rate-limited lines about refused rewrites (rewrite_log.h). */
#include <time.h>

#include "log.h"
#include "rewrite_log.h"

void vd_rewrite_log(struct vd_rewrite_log *l, const char *rule, const char *reason)
{
	struct timespec ts;

	/* The coarse clock is a vDSO read: no syscall on the packet path. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	if (l->last_second != 0 && ts.tv_sec <= l->last_second) {
		l->suppressed++;
		return;
	}
	if (l->suppressed)
		vd_log(VD_LOG_WARN, "rule \"%s\": rewrite refused: %s (%llu more not shown)", rule,
		       reason, (unsigned long long)l->suppressed);
	else
		vd_log(VD_LOG_WARN, "rule \"%s\": rewrite refused: %s", rule, reason);
	l->last_second = ts.tv_sec > 0 ? ts.tv_sec : 1;
	l->suppressed = 0;
}
