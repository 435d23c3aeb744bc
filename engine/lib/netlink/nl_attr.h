/*
 * nl_attr.h - netfilter netlink attribute decoding shared by the NFQUEUE and
 * NFLOG message decoders (nfq_message.c, nflog_message.c).
 *
 * Validate-then-use, as libmnl's examples do: a callback fills a table
 * indexed by attribute type, leaving out a known attribute that is shorter
 * than its minimum and skipping unknown types, and the decoder then reads
 * the table. The library helpers (nfq_nlmsg_parse, nflog_nlmsg_parse) are
 * not used: libnetfilter_queue 1.0.5 validates NFQA_SECCTX as a u32 and
 * libnetfilter_log 1.0.2 stops at the first short attribute, so one odd
 * attribute would lose every attribute after it, the payload among them.
 *
 * Hot path: nothing here allocates or makes a syscall.
 */
#ifndef VD_NL_ATTR_H
#define VD_NL_ATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

#include <verdict/packet.h>

/* Walks the messages of one datagram, as mnl_nlmsg_ok/mnl_nlmsg_next do,
 * but with the lengths compared unsigned: libmnl casts nlmsg_len to int, so
 * a length of 0x80000000 or more would pass and the next step would leave
 * the datagram. Yields each message that lies whole within the bytes left.
 *
 *     for (nlh = buf; vd_nl_msg_ok(nlh, left); nlh = vd_nl_msg_next(nlh, &left))
 */
static inline bool vd_nl_msg_ok(const struct nlmsghdr *nlh, size_t left)
{
	return left >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) && nlh->nlmsg_len <= left;
}

static inline const struct nlmsghdr *vd_nl_msg_next(const struct nlmsghdr *nlh, size_t *left)
{
	size_t step = NLMSG_ALIGN(nlh->nlmsg_len);

	step = step < *left ? step : *left;
	*left -= step;
	return (const struct nlmsghdr *)((const uint8_t *)nlh + step);
}

/* An attribute table being filled: attr[type] for type <= max, with each
 * type's minimum payload length (0: any). */
struct vd_nl_attr_table {
	const struct nlattr **attr;
	const uint16_t *min_len;
	uint16_t max;
};

/* Fills t from the attributes of nlh that follow a header of offset bytes.
 * A message cut short loses its tail, never more. */
void vd_nl_attr_parse(const struct nlmsghdr *nlh, unsigned offset, struct vd_nl_attr_table *t);

/* The same for the attributes nested in nest. */
void vd_nl_attr_parse_nested(const struct nlattr *nest, struct vd_nl_attr_table *t);

uint32_t vd_nl_attr_u32(const struct nlattr *a); /* host order */
uint16_t vd_nl_attr_u16(const struct nlattr *a); /* host order */

/* attr[type], when present, into *field, and bit into pkt->meta. */
void vd_nl_decode_u32(const struct nlattr *const *attr, unsigned type, uint32_t bit,
		      uint32_t *field, struct vd_packet *pkt);

/* The layouts both subsystems share: a timestamp {be64 sec, be64 usec}
 * (nfqnl_msg_packet_timestamp, nfulnl_msg_packet_timestamp), a hardware
 * address {be16 len, pad, u8[8]} (nfqnl_msg_packet_hw, nfulnl_msg_packet_hw)
 * and a conntrack nest whose CTA_MARK is the connmark. Each sets its meta
 * bit; a is the attribute, already length-checked by the table. */
void vd_nl_decode_timestamp(const struct nlattr *a, struct vd_packet *pkt);
void vd_nl_decode_hwaddr(const struct nlattr *a, struct vd_packet *pkt);
void vd_nl_decode_ct_mark(const struct nlattr *nest, struct vd_packet *pkt);

/* Minimum lengths for vd_nl_decode_timestamp and vd_nl_decode_hwaddr. */
#define VD_NL_TIMESTAMP_LEN 16
#define VD_NL_HWADDR_LEN 12

#endif
