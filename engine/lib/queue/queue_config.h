/*
 * queue_config.h - bind, configure and unbind one queue: the NFQNL_MSG_CONFIG
 * messages, with a diagnosis of why the kernel refused. Set-up path only;
 * the socket and the acknowledgement wait are nl_socket.h's.
 */
#ifndef VD_QUEUE_CONFIG_H
#define VD_QUEUE_CONFIG_H

#include <stdint.h>

#include <verdict/queue.h>

#include "nl_socket.h"

/* Binds cfg->queue_num and sets copy mode and range, maxlen and the flags in
 * one message, then waits for the kernel's answer (packets queued meanwhile
 * go to io->other). Optional flags the kernel lacks are dropped with one
 * warning per process. Returns 0; -1 with errno and errbuf naming the cause
 * (EPERM: no CAP_NET_ADMIN; EBUSY: another process holds the queue;
 * EOPNOTSUPP: a required flag the kernel lacks). */
int vd_queue_config_bind(struct mnl_socket *nl, const struct vd_queue_config *cfg,
			 const struct vd_nl_io *io, char *errbuf);

/* Sets the kernel queue length of bound queue_num to maxlen: one config
 * message without an acknowledgement asked for (a refusal is an error
 * message the receive loop counts). Any thread. Returns 0 or -1 with errno. */
int vd_queue_config_set_maxlen(struct mnl_socket *nl, uint16_t queue_num, uint32_t maxlen);

/* Unbinds queue_num. Returns 0 or -1 with errno. */
int vd_queue_config_unbind(struct mnl_socket *nl, uint16_t queue_num, const struct vd_nl_io *io);

#endif
