/* proc.c - read one queue's line of /proc/net/netfilter/nfnetlink_queue, or
 * one log group's of nfnetlink_log. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "export.h"
#include "proc.h"

#define NFQ_PROC_PATH "/proc/net/netfilter/nfnetlink_queue"

/* Calls match on each line of the /proc file at path until it returns
 * true. Returns 0; -1 with errno ENOENT when no line matched, or fopen's. */
static int proc_find(const char *path, bool (*match)(const char *line, void *data), void *data)
{
	char line[256];
	FILE *f = fopen(path, "re");
	bool found = false;

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		found = match(line, data);
	fclose(f);
	if (!found) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

struct queue_line {
	uint16_t num;
	struct vd_kernel_queue_stats *out;
};

static bool queue_line_match(const char *line, void *data)
{
	struct queue_line *q = data;
	struct vd_kernel_queue_stats k;
	unsigned num;

	/* queue_num portid queue_total copy_mode copy_range queue_dropped
	 * user_dropped id_sequence 1 */
	if (sscanf(line, "%u %u %u %u %u %lu %lu %u", &num, &k.portid, &k.queue_total,
		   &k.copy_mode, &k.copy_range, &k.queue_dropped, &k.user_dropped,
		   &k.id_sequence) != 8 || num != q->num)
		return false;
	*q->out = k;
	return true;
}

int vd_proc_queue_read(const char *path, uint16_t queue_num, struct vd_kernel_queue_stats *out)
{
	struct queue_line q = { queue_num, out };

	return proc_find(path ? path : NFQ_PROC_PATH, queue_line_match, &q);
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

struct group_line {
	uint16_t group;
	unsigned *portid;
};

static bool group_line_match(const char *line, void *data)
{
	struct group_line *g = data;
	unsigned num, portid;

	/* group_num peer_portid qlen copy_mode copy_range flushtimeout use */
	if (sscanf(line, "%u %u", &num, &portid) != 2 || num != g->group)
		return false;
	*g->portid = portid;
	return true;
}

int vd_proc_log_group_holder(uint16_t group, unsigned *portid)
{
	struct group_line g = { group, portid };

	return proc_find("/proc/net/netfilter/nfnetlink_log", group_line_match, &g);
}
