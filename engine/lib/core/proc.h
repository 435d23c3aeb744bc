/*
 * proc.h - the kernel's view of NFQUEUE queues and NFLOG groups, from
 * /proc/net/netfilter/nfnetlink_queue and nfnetlink_log (per network
 * namespace).
 */
#ifndef VD_PROC_H
#define VD_PROC_H

#include <stdint.h>

#include <verdict/queue.h>

/* Reads the line of queue_num. Returns 0; -1 with errno ENOENT when no
 * process has it bound, or the open/read errno. path NULL: the default. */
int vd_proc_queue_read(const char *path, uint16_t queue_num, struct vd_kernel_queue_stats *out);

/* The netlink port that holds NFLOG group `group`, from
 * /proc/net/netfilter/nfnetlink_log. Returns 0; -1 with errno ENOENT when
 * nobody has it bound, or the open errno. */
int vd_proc_log_group_holder(uint16_t group, unsigned *portid);

#endif
