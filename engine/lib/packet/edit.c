/*
 * edit.c - rewrites a parsed packet in place, keeping lengths and checksums
 * right after every call (see edit.h for the contract and the decisions).
 *
 * Every operation runs in the same order: validate (refuse with the packet
 * untouched), return early when the value is already there, bring a stale
 * L4 checksum up to date (vd_edit_begin), then write the bytes through one
 * of two writers that update the checksums covering them: vd_edit_ip4_write
 * (the IPv4 header checksum) and vd_edit_l4_write (the L4 checksum). Address
 * changes reach the L4 checksum through the pseudo-header
 * (vd_edit_pseudo_change). The L4 edits are in edit_l4.c.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <netinet/in.h>

#include "checksum.h"
#include "export.h"
#include "edit_internal.h"

static const int reason_errno[VD_EDIT_REASON_COUNT] = {
	[VD_EDIT_OK] = 0,
	[VD_EDIT_INVALID] = EINVAL,
	[VD_EDIT_MALFORMED] = EBADMSG,
	[VD_EDIT_TRUNCATED] = ENODATA,
	[VD_EDIT_TOO_LONG] = EMSGSIZE,
	[VD_EDIT_NO_ROOM] = ENOBUFS,
	[VD_EDIT_FRAGMENT] = EOPNOTSUPP,
	[VD_EDIT_JUMBO] = EFBIG,
	[VD_EDIT_NO_FIELD] = ENOPROTOOPT,
	[VD_EDIT_FAMILY] = EAFNOSUPPORT,
	[VD_EDIT_TCP_LENGTH] = EPROTO,
	[VD_EDIT_TCP_OPTIONS] = EBADMSG,
	[VD_EDIT_SCTP_CRC] = EOPNOTSUPP,
	[VD_EDIT_UDP_LENGTH] = EBADMSG,
};

int vd_edit_refuse(struct vd_packet_edit *edit, enum vd_edit_reason reason)
{
	edit->reason = (uint8_t)reason;
	return -reason_errno[reason];
}

/* Where the L4 checksum is, whether it covers the pseudo-header, and what
 * state it starts in. */
static void l4_csum_layout(struct vd_packet_edit *edit)
{
	const struct vd_packet *pkt = edit->pkt;
	bool decoded = vd_packet_has_l4(pkt), pseudo = true;
	uint32_t off = 0;

	edit->l4_off = pkt->l3_header_len;
	if (pkt->flags & VD_PACKET_LATER_FRAGMENT)
		return;
	switch (pkt->l4_proto) {
	case IPPROTO_TCP:
		off = decoded ? 16u : 0u;
		break;
	case IPPROTO_UDP:
		off = decoded ? 6u : 0u;
		break;
	case IPPROTO_UDPLITE: /* not decoded: only the field's place is known */
	case IPPROTO_DCCP:
		off = l4_length(edit) >= 8u ? 6u : 0u;
		break;
	case IPPROTO_ICMP:
		off = decoded ? 2u : 0u;
		pseudo = false; /* ICMPv4 sums the message alone */
		break;
	case IPPROTO_ICMPV6:
		off = decoded ? 2u : 0u;
		break;
	default:
		break;
	}
	if (!off)
		return;
	edit->l4_csum_off = edit->l4_off + off;
	edit->l4_csum_pseudo = pseudo;
	edit->l4_csum_state = L4_CSUM_FULL;
	if ((pkt->flags & VD_PACKET_CSUM_NOT_READY) && decoded)
		edit->l4_csum_state = (edit->options & VD_EDIT_KEEP_PARTIAL) ? L4_CSUM_PARTIAL
									 : L4_CSUM_STALE;
	else if (pkt->l4_proto == IPPROTO_UDP && get16(edit->buf + edit->l4_csum_off) == 0)
		edit->l4_csum_state = is_v4(edit) ? L4_CSUM_ZERO : L4_CSUM_STALE;
}

static uint32_t l4_pseudo_sum(const struct vd_packet_edit *edit, uint32_t l4_len)
{
	const struct vd_packet *pkt = edit->pkt;

	if (!edit->l4_csum_pseudo)
		return 0;
	if (is_v4(edit))
		return vd_checksum_pseudo_v4(pkt->src, pkt->dst, pkt->l4_proto, l4_len);
	return vd_checksum_pseudo_v6(pkt->src, pkt->dst, pkt->l4_proto, l4_len);
}

/* RFC 768: a UDP checksum that computes to 0 is sent as all ones, since 0
 * means "no checksum". */
static void l4_csum_store(struct vd_packet_edit *edit, uint16_t check)
{
	if (check == 0 && edit->pkt->l4_proto == IPPROTO_UDP)
		check = 0xffff;
	put16(edit->buf + edit->l4_csum_off, check);
}

/* The full L4 checksum over the whole segment. Never on a fragment. */
void vd_edit_l4_csum_compute(struct vd_packet_edit *edit)
{
	uint32_t l4_len = l4_length(edit);
	uint32_t sum;

	put16(edit->buf + edit->l4_csum_off, 0);
	sum = vd_checksum_partial(edit->buf + edit->l4_off, l4_len, l4_pseudo_sum(edit, l4_len));
	l4_csum_store(edit, vd_checksum_finish(sum));
}

/* Every operation that will write calls this once its checks passed. */
int vd_edit_begin(struct vd_packet_edit *edit)
{
	if (edit->l4_csum_state != L4_CSUM_STALE)
		return 0;
	if (edit->pkt->flags & VD_PACKET_FRAGMENT)
		return vd_edit_refuse(edit, VD_EDIT_FRAGMENT);
	vd_edit_l4_csum_compute(edit);
	edit->l4_csum_state = L4_CSUM_FULL;
	/* The bytes now hold a finished checksum: the view says so too. */
	edit->pkt->flags &= (uint16_t)~VD_PACKET_CSUM_NOT_READY;
	return 0;
}

/* Writes n bytes of the IPv4 header at off, updating its checksum. */
void vd_edit_ip4_write(struct vd_packet_edit *edit, uint32_t off, const void *bytes, uint32_t n)
{
	vd_checksum_replace(edit->buf + IPV4_CHECK_OFF, off, edit->buf + off, bytes, n);
	memcpy(edit->buf + off, bytes, n);
}

/* Writes n bytes of the L4 segment at buffer offset off (never its
 * checksum field), updating a complete checksum. A partial one is left:
 * the kernel sums these bytes when it finishes it. */
void vd_edit_l4_write(struct vd_packet_edit *edit, uint32_t off, const void *bytes, uint32_t n)
{
	uint8_t *check = edit->buf + edit->l4_csum_off;

	if (edit->l4_csum_state == L4_CSUM_FULL) {
		vd_checksum_replace(check, off - edit->l4_off, edit->buf + off, bytes, n);
		l4_csum_store(edit, get16(check));
	}
	memcpy(edit->buf + off, bytes, n);
}

/* A pseudo-header word group summing old_sum now sums new_sum. */
void vd_edit_pseudo_change(struct vd_packet_edit *edit, uint32_t old_sum, uint32_t new_sum)
{
	uint8_t *check = edit->buf + edit->l4_csum_off;

	if (!edit->l4_csum_pseudo)
		return;
	if (edit->l4_csum_state == L4_CSUM_FULL)
		l4_csum_store(edit, vd_checksum_update(get16(check), old_sum, new_sum));
	else if (edit->l4_csum_state == L4_CSUM_PARTIAL)
		put16(check, vd_checksum_update_plain(get16(check), old_sum, new_sum));
}

VD_EXPORT void vd_packet_edit_prepare(struct vd_packet_edit *edit, struct vd_packet *pkt,
				      uint8_t *buf, uint32_t capacity, unsigned options)
{
	*edit = (struct vd_packet_edit){ .pkt = pkt, .buf = buf, .capacity = capacity,
					 .options = (uint8_t)options };
}

int vd_edit_start(struct vd_packet_edit *edit)
{
	const struct vd_packet *pkt = edit->pkt;

	if (!pkt || !edit->buf || pkt->data != edit->buf)
		return vd_edit_refuse(edit, VD_EDIT_INVALID);
	/* E.g. a GSO packet over the 65,531 bytes a verdict carries. */
	if (edit->capacity < pkt->caplen)
		return vd_edit_refuse(edit, VD_EDIT_NO_ROOM);
	/* Checked before the parse error: a cut packet also fails to parse. */
	if (pkt->flags & VD_PACKET_TRUNCATED)
		return vd_edit_refuse(edit, VD_EDIT_TRUNCATED);
	if (pkt->parse_error != VD_PARSE_OK || (pkt->ip_version != 4 && pkt->ip_version != 6))
		return vd_edit_refuse(edit, VD_EDIT_MALFORMED);
	edit->len = pkt->caplen;
	edit->orig_len = pkt->caplen;
	l4_csum_layout(edit);
	edit->started = 1;
	return 0;
}

VD_EXPORT int vd_packet_edit_init(struct vd_packet_edit *edit, struct vd_packet *pkt,
				  uint8_t *buf, uint32_t capacity, unsigned options)
{
	if (!edit)
		return -EINVAL;
	vd_packet_edit_prepare(edit, pkt, buf, capacity, options);
	return vd_edit_ready(edit);
}

VD_EXPORT int vd_packet_edit_set_ttl(struct vd_packet_edit *edit, uint8_t ttl)
{
	uint32_t off = is_v4(edit) ? 8u : 7u;
	int err;

	err = vd_edit_ready(edit);
	if (err)
		return err;
	if (edit->buf[off] == ttl)
		return 0;
	err = vd_edit_begin(edit);
	if (err)
		return err;
	if (is_v4(edit))
		vd_edit_ip4_write(edit, off, &ttl, 1);
	else
		edit->buf[off] = ttl;
	edit->pkt->ttl = ttl;
	edit->fields |= VD_EDIT_TTL;
	return 0;
}

/* IPv4: the TOS byte; IPv6: the traffic class, across bytes 0 and 1. */
static uint8_t traffic_class(const struct vd_packet_edit *edit)
{
	if (is_v4(edit))
		return edit->buf[1];
	return (uint8_t)((edit->buf[0] & 0x0fu) << 4 | edit->buf[1] >> 4);
}

static int traffic_class_set(struct vd_packet_edit *edit, uint8_t tc, uint32_t field)
{
	int err;

	if (traffic_class(edit) == tc)
		return 0;
	err = vd_edit_begin(edit);
	if (err)
		return err;
	if (is_v4(edit)) {
		vd_edit_ip4_write(edit, 1, &tc, 1);
	} else {
		edit->buf[0] = (uint8_t)((edit->buf[0] & 0xf0u) | tc >> 4);
		edit->buf[1] = (uint8_t)((edit->buf[1] & 0x0fu) | (tc & 0x0fu) << 4);
	}
	edit->fields |= field;
	return 0;
}

VD_EXPORT int vd_packet_edit_set_dscp(struct vd_packet_edit *edit, uint8_t dscp)
{
	int err;

	err = vd_edit_ready(edit);
	if (err)
		return err;
	if (dscp > 63)
		return vd_edit_refuse(edit, VD_EDIT_INVALID);
	return traffic_class_set(edit, (uint8_t)(dscp << 2 | (traffic_class(edit) & 3u)),
				 VD_EDIT_DSCP);
}

VD_EXPORT int vd_packet_edit_set_ecn(struct vd_packet_edit *edit, uint8_t ecn)
{
	int err;

	err = vd_edit_ready(edit);
	if (err)
		return err;
	if (ecn > 3)
		return vd_edit_refuse(edit, VD_EDIT_INVALID);
	return traffic_class_set(edit, (uint8_t)((traffic_class(edit) & 0xfcu) | ecn),
				 VD_EDIT_ECN);
}

VD_EXPORT int vd_packet_edit_set_df(struct vd_packet_edit *edit, bool df)
{
	uint16_t old_word, new_word;
	uint8_t bytes[2];
	int err;

	err = vd_edit_ready(edit);
	if (err)
		return err;
	if (!is_v4(edit))
		return vd_edit_refuse(edit, VD_EDIT_NO_FIELD);
	old_word = get16(edit->buf + 6);
	new_word = (uint16_t)(df ? old_word | IPV4_DF : old_word & ~IPV4_DF);
	if (new_word == old_word)
		return 0;
	err = vd_edit_begin(edit);
	if (err)
		return err;
	put16(bytes, new_word);
	vd_edit_ip4_write(edit, 6, bytes, 2);
	edit->fields |= VD_EDIT_DF;
	return 0;
}

static int address_set(struct vd_packet_edit *edit, uint8_t ip_version, const uint8_t *addr,
		       bool dst)
{
	uint32_t n = is_v4(edit) ? 4u : 16u;
	uint32_t off = is_v4(edit) ? (dst ? 16u : 12u) : (dst ? 24u : 8u);
	int err;

	err = vd_edit_ready(edit);
	if (err)
		return err;
	if (!addr || (ip_version != 4 && ip_version != 6))
		return vd_edit_refuse(edit, VD_EDIT_INVALID);
	if (ip_version != edit->pkt->ip_version)
		return vd_edit_refuse(edit, VD_EDIT_FAMILY);
	if (memcmp(edit->buf + off, addr, n) == 0)
		return 0;
	if (edit->pkt->flags & VD_PACKET_FRAGMENT)
		return vd_edit_refuse(edit, VD_EDIT_FRAGMENT);
	err = vd_edit_begin(edit);
	if (err)
		return err;
	/* Addresses sit at even offsets of the pseudo-header: no swap. */
	vd_edit_pseudo_change(edit, vd_checksum_partial(edit->buf + off, n, 0),
			 vd_checksum_partial(addr, n, 0));
	if (is_v4(edit))
		vd_edit_ip4_write(edit, off, addr, n);
	else
		memcpy(edit->buf + off, addr, n);
	edit->fields |= dst ? VD_EDIT_DST : VD_EDIT_SRC;
	return 0;
}

VD_EXPORT int vd_packet_edit_set_src(struct vd_packet_edit *edit, uint8_t ip_version,
			   const uint8_t *addr)
{
	return address_set(edit, ip_version, addr, false);
}

VD_EXPORT int vd_packet_edit_set_dst(struct vd_packet_edit *edit, uint8_t ip_version,
			   const uint8_t *addr)
{
	return address_set(edit, ip_version, addr, true);
}

VD_EXPORT const char *vd_packet_edit_field_name(unsigned bit)
{
	static const char *const names[VD_EDIT_FIELD_COUNT] = {
		"ttl", "dscp", "ecn", "src", "dst", "sport",
		"dport", "tcp_flags", "mss", "df", "payload",
	};

	return bit < VD_EDIT_FIELD_COUNT ? names[bit] : NULL;
}

VD_EXPORT const char *vd_packet_edit_reason_str(enum vd_edit_reason reason)
{
	static const char *const names[VD_EDIT_REASON_COUNT] = {
		[VD_EDIT_OK] = "ok",
		[VD_EDIT_INVALID] = "invalid argument",
		[VD_EDIT_MALFORMED] = "packet did not parse",
		[VD_EDIT_TRUNCATED] = "packet cut short by the copy range: a rewrite needs all of it",
		[VD_EDIT_TOO_LONG] = "result over 65535 bytes",
		[VD_EDIT_NO_ROOM] = "result over the room for it (a verdict carries 65,531 bytes at most)",
		[VD_EDIT_FRAGMENT] = "not possible on an IP fragment",
		[VD_EDIT_JUMBO] = "length change of a jumbogram",
		[VD_EDIT_NO_FIELD] = "packet has no such field",
		[VD_EDIT_FAMILY] = "address of the other IP version",
		[VD_EDIT_TCP_LENGTH] = ("TCP payload length change needs the kernel's sequence "
					"adjustment (CONFIG_NETFILTER_NETLINK_GLUE_CT)"),
		[VD_EDIT_TCP_OPTIONS] = "malformed TCP options",
		[VD_EDIT_SCTP_CRC] = "SCTP's CRC32c is not recomputed",
		[VD_EDIT_UDP_LENGTH] = "UDP length differs from the IP payload length",
	};

	if ((unsigned)reason >= VD_EDIT_REASON_COUNT)
		return "unknown reason";
	return names[reason];
}
