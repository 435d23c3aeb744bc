/*
 * nfq_message.h - an NFQUEUE packet message as a packet view.
 *
 * Knows the netlink attributes and nothing of sockets or rules.
 */
#ifndef VD_NFQ_MESSAGE_H
#define VD_NFQ_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include <verdict/packet.h>

/* Netlink message type of a queued packet (subsystem in the high byte). */
#define VD_NFQ_MSG_PACKET ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)

/* Fills pkt from nlh, a NFQNL_MSG_PACKET message: metadata from the
 * attributes, data/caplen/len from NFQA_PAYLOAD and NFQA_CAP_LEN, then runs
 * vd_packet_parse. Points into nlh: nothing is copied. Returns 0; -1 with
 * errno EINVAL when the message has no valid NFQA_PACKET_HDR (no id to
 * answer). Malformed other attributes are ignored (the view's meta bits say
 * what was read). Like libmnl, reads up to the 4-byte aligned end of nlh,
 * which every receive buffer has. Hot path: no allocation, no syscall. */
int vd_nfq_message_decode(const struct nlmsghdr *nlh, struct vd_packet *pkt);

/* The packet id of a packet message that could not be decoded (a datagram
 * cut short by the receive buffer, a malformed attribute), read from the
 * first len bytes of buf alone, so that the packet can still be answered.
 * Returns 0; -1 with errno ENOENT when no NFQA_PACKET_HDR lies whole within
 * them (then the packet cannot be named, and the kernel keeps it until its
 * queue is unbound). */
int vd_nfq_message_packet_id(const void *buf, size_t len, uint32_t *id);

#endif
