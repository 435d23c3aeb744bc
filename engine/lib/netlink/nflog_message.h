/*
 * nflog_message.h - an NFLOG packet message as a packet view.
 *
 * Knows the netlink attributes and nothing of sockets or rules: the NFLOG
 * twin of nfq_message.h.
 */
#ifndef VD_NFLOG_MESSAGE_H
#define VD_NFLOG_MESSAGE_H

#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include <verdict/packet.h>

/* Netlink message type of a logged packet (subsystem in the high byte). */
#define VD_NFLOG_MSG_PACKET ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)

/* Fills pkt from nlh, an NFULNL_MSG_PACKET message of an NFLOG group.
 *
 * The view is first reset with vd_packet_view_init over NFULA_PAYLOAD's
 * bytes (caplen = the payload's length; len = the IP header's total length
 * when that is larger, since NFLOG sends no original length and a copy range
 * cuts packets; without a payload data is NULL and caplen 0). Then:
 *   source = VD_SOURCE_NFLOG, family = nfgen_family, queue = the log group
 *   (res_id); id stays 0, for NFLOG has no packet id and takes no verdict.
 *   NFULA_PACKET_HDR -> hw_protocol, hook (no meta bit)
 *   NFULA_MARK -> mark                          VD_META_MARK
 *   NFULA_TIMESTAMP -> timestamp_ns             VD_META_TIMESTAMP
 *   NFULA_IFINDEX_{IN,OUT,PHYSIN,PHYSOUT}DEV -> indev, outdev, physindev,
 *     physoutdev                                VD_META_{INDEV,...}
 *   NFULA_HWADDR -> hwaddr, hwaddr_len (at most 8)  VD_META_HWADDR
 *   NFULA_PREFIX -> prefix (NUL-terminated)     VD_META_PREFIX
 *   NFULA_UID, NFULA_GID -> uid, gid            VD_META_UID, VD_META_GID
 *   NFULA_SEQ, NFULA_SEQ_GLOBAL -> seq, seq_global  VD_META_SEQ(_GLOBAL)
 *   NFULA_HWTYPE -> hw_type                     VD_META_HWTYPE
 *   NFULA_HWHEADER (+ NFULA_HWLEN) -> hw_header, hw_header_len (the smaller
 *     of HWLEN and the attribute's length)      VD_META_HWHEADER
 *   NFULA_CT_INFO -> ct_state                   VD_META_CT | VD_META_CT_INFO
 *   NFULA_CT's CTA_MARK -> ct_mark              VD_META_CT_MARK
 *   NFULA_VLAN's PROTO and TCI -> vlan_proto, vlan_tci (both needed)
 *                                               VD_META_VLAN
 *   NFULA_L2HDR -> l2_header, l2_header_len     VD_META_L2HDR
 * Last, vd_packet_parse runs when there is a payload (caplen > 0).
 *
 * Malformed input: an unknown attribute type is skipped; a known attribute
 * that is too short (a prefix without its NUL, a nested attribute cut short)
 * is ignored and its meta bit stays clear, the rest of the message still
 * counts. Nothing is read outside the message; like libmnl, reads up to its
 * 4-byte aligned end, which every receive buffer has.
 *
 * Returns 0; -1 with errno EINVAL when nlh is not a VD_NFLOG_MSG_PACKET
 * message or is too short for its struct nfgenmsg (pkt is then untouched).
 *
 * Ownership: every pointer in pkt (data, prefix, hw_header, l2_header and
 * the parser's) points into nlh; the view is valid while nlh's buffer is.
 * Hot path: no allocation, no copy, no syscall. Reentrant; pkt and nlh
 * belong to the calling thread. */
int vd_nflog_message_decode(const struct nlmsghdr *nlh, struct vd_packet *pkt);

#endif
