/* proc.c - read one queue's line of /proc/net/netfilter/nfnetlink_queue, or
 * one log group's of nfnetlink_log. */
#include <errno.h>
#include <stdio.h>

#include "export.h"
#include "proc.h"

#define NFQ_PROC_PATH "/proc/net/netfilter/nfnetlink_queue"

int vd_proc_queue_read(const char *path, uint16_t queue_num, struct vd_kernel_queue_stats *out)
{
	char line[256];
	FILE *f = fopen(path ? path : NFQ_PROC_PATH, "re");
	int found = 0;

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f)) {
		struct vd_kernel_queue_stats k;
		unsigned num;

		/* queue_num portid queue_total copy_mode copy_range queue_dropped
		 * user_dropped id_sequence 1 */
		if (sscanf(line, "%u %u %u %u %u %lu %lu %u", &num, &k.portid, &k.queue_total,
			   &k.copy_mode, &k.copy_range, &k.queue_dropped, &k.user_dropped,
			   &k.id_sequence) == 8 && num == queue_num) {
			*out = k;
			found = 1;
		}
	}
	fclose(f);
	if (!found) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

VD_EXPORT int vd_queue_kernel_stats_sized(uint16_t queue_num, struct vd_kernel_queue_stats *out,
					  size_t out_size)
{
	struct vd_kernel_queue_stats k;

	if (vd_proc_queue_read(NULL, queue_num, &k) < 0)
		return -1;
	vd_abi_copy_out(out, out_size, &k, sizeof(k));
	return 0;
}

int vd_proc_log_group_holder(uint16_t group, unsigned *portid)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_log", "re");
	unsigned g, p;
	char line[256];
	int found = 0;

	if (!f)
		return -1;
	/* group_num peer_portid qlen copy_mode copy_range flushtimeout use */
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%u %u", &g, &p) == 2 && g == group) {
			*portid = p;
			found = 1;
		}
	fclose(f);
	if (!found) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}
