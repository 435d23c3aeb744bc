/*
 * edit_l4.c - the transport-layer edits: ports, TCP flags, the MSS clamp
 * and payload replacement with its length changes (see edit.h). The
 * checksum writers they go through are in edit.c.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <netinet/in.h>

#include "edit_internal.h"
#include "export.h"

/* Which L4 fields the packet has: refuses with the reason when it has none. */
static int l4_fields_check(struct vd_packet_edit *edit, bool tcp_only)
{
	const struct vd_packet *pkt = edit->pkt;

	if (!vd_packet_has_l4(pkt))
		return vd_edit_refuse(edit, VD_EDIT_NO_FIELD);
	if (pkt->l4_proto == IPPROTO_TCP)
		return 0;
	if (tcp_only)
		return vd_edit_refuse(edit, VD_EDIT_NO_FIELD);
	if (pkt->l4_proto == IPPROTO_UDP)
		return 0;
	if (pkt->l4_proto == IPPROTO_SCTP)
		return vd_edit_refuse(edit, VD_EDIT_SCTP_CRC);
	return vd_edit_refuse(edit, VD_EDIT_NO_FIELD);
}

static int port_set(struct vd_packet_edit *edit, uint16_t port, bool dst)
{
	uint8_t bytes[2];
	uint32_t off;
	int err;

	err = vd_edit_ready(edit);
	if (err)
		return err;
	off = edit->l4_off + (dst ? 2u : 0u);
	err = l4_fields_check(edit, false);
	if (err)
		return err;
	if (get16(edit->buf + off) == port)
		return 0;
	err = vd_edit_begin(edit);
	if (err)
		return err;
	put16(bytes, port);
	vd_edit_l4_write(edit, off, bytes, 2);
	if (dst) {
		edit->pkt->dport = port;
		edit->fields |= VD_EDIT_DPORT;
	} else {
		edit->pkt->sport = port;
		edit->fields |= VD_EDIT_SPORT;
	}
	return 0;
}

VD_EXPORT int vd_packet_edit_set_sport(struct vd_packet_edit *edit, uint16_t port)
{
	return port_set(edit, port, false);
}

VD_EXPORT int vd_packet_edit_set_dport(struct vd_packet_edit *edit, uint16_t port)
{
	return port_set(edit, port, true);
}

VD_EXPORT int vd_packet_edit_set_tcp_flags(struct vd_packet_edit *edit, uint8_t set, uint8_t clear)
{
	uint8_t flags;
	uint32_t off;
	int err;

	err = vd_edit_ready(edit);
	if (err)
		return err;
	off = edit->l4_off + TCP_FLAGS_OFF;
	if (set & clear)
		return vd_edit_refuse(edit, VD_EDIT_INVALID);
	err = l4_fields_check(edit, true);
	if (err)
		return err;
	flags = (uint8_t)((edit->buf[off] | set) & ~clear);
	if (flags == edit->buf[off])
		return 0;
	err = vd_edit_begin(edit);
	if (err)
		return err;
	vd_edit_l4_write(edit, off, &flags, 1); /* an odd offset: l4_write swaps */
	edit->pkt->tcp_flags = flags;
	edit->fields |= VD_EDIT_TCP_FLAGS;
	return 0;
}

/*
 * Walks the TCP options of a header of header_len bytes and notes where each
 * MSS option's value sits. Returns how many, or -1 when an option's length
 * is below 2, runs past the header, or an MSS option is not 4 bytes.
 */
static int tcp_options_mss(const uint8_t *tcp, uint32_t header_len, uint32_t *at)
{
	uint32_t i = TCP_HEADER_MIN, len;
	int n = 0;

	while (i < header_len) {
		if (tcp[i] == 0) /* end of options */
			break;
		if (tcp[i] == 1) { /* no-operation */
			i++;
			continue;
		}
		if (header_len - i < 2u)
			return -1;
		len = tcp[i + 1];
		if (len < 2u || len > header_len - i)
			return -1;
		if (tcp[i] == TCP_OPTION_MSS) {
			if (len != 4u)
				return -1;
			at[n++] = i + 2;
		}
		i += len;
	}
	return n;
}

VD_EXPORT int vd_packet_edit_clamp_mss(struct vd_packet_edit *edit, uint16_t mss)
{
	uint32_t at[TCP_MAX_OPTIONS];
	const uint8_t *tcp;
	uint8_t bytes[2];
	bool any = false;
	int err, n;

	err = vd_edit_ready(edit);
	if (err)
		return err;
	if (mss == 0)
		return vd_edit_refuse(edit, VD_EDIT_INVALID);
	err = l4_fields_check(edit, true);
	if (err)
		return err;
	tcp = edit->buf + edit->l4_off;
	/* The whole list is checked before any write: a malformed one is
	 * refused untouched. The kernel takes the last MSS option, so every
	 * one is clamped. */
	n = tcp_options_mss(tcp, (uint32_t)(tcp[12] >> 4) * 4u, at);
	if (n < 0)
		return vd_edit_refuse(edit, VD_EDIT_TCP_OPTIONS);
	for (int i = 0; i < n; i++)
		any |= get16(tcp + at[i]) > mss;
	if (!any)
		return 0;
	err = vd_edit_begin(edit);
	if (err)
		return err;
	put16(bytes, mss);
	for (int i = 0; i < n; i++)
		if (get16(tcp + at[i]) > mss) /* odd offsets after a NOP: l4_write swaps */
			vd_edit_l4_write(edit, edit->l4_off + at[i], bytes, 2);
	edit->fields |= VD_EDIT_MSS;
	return 0;
}

/* The protocols whose payload we can rewrite with their checksum. */
static int payload_check(struct vd_packet_edit *edit)
{
	const struct vd_packet *pkt = edit->pkt;

	if (!vd_packet_has_l4(pkt))
		return vd_edit_refuse(edit, VD_EDIT_NO_FIELD);
	switch (pkt->l4_proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_ICMP:   /* decoded only under IPv4 */
	case IPPROTO_ICMPV6: /* decoded only under IPv6 */
		return 0;
	case IPPROTO_SCTP:
		return vd_edit_refuse(edit, VD_EDIT_SCTP_CRC);
	default:
		return vd_edit_refuse(edit, VD_EDIT_NO_FIELD);
	}
}

/* IPv6 payload length 0 (RFC 2675) or IPv4 total length 0 (BIG TCP). */
static bool is_jumbo(const struct vd_packet_edit *edit)
{
	return get16(edit->buf + (is_v4(edit) ? 2u : 4u)) == 0;
}

/* Checks a length change of delta bytes before anything moves. */
static int resize_check(struct vd_packet_edit *edit, int64_t delta)
{
	const struct vd_packet *pkt = edit->pkt;
	int64_t ip_len;

	if (pkt->flags & VD_PACKET_FRAGMENT)
		return vd_edit_refuse(edit, VD_EDIT_FRAGMENT);
	if (is_jumbo(edit))
		return vd_edit_refuse(edit, VD_EDIT_JUMBO);
	if (pkt->l4_proto == IPPROTO_TCP && !(edit->options & VD_EDIT_TCP_LENGTH_OK))
		return vd_edit_refuse(edit, VD_EDIT_TCP_LENGTH);
	if (pkt->l4_proto == IPPROTO_UDP && get16(edit->buf + edit->l4_off + 4) != l4_length(edit))
		return vd_edit_refuse(edit, VD_EDIT_UDP_LENGTH);
	/* The IPv4 total length, or the IPv6 payload length, must fit 16 bits;
	 * so must the packet. */
	ip_len = (int64_t)get16(edit->buf + (is_v4(edit) ? 2u : 4u)) + delta;
	if (ip_len > VD_EDIT_MAX_LEN || (int64_t)edit->len + delta > VD_EDIT_MAX_LEN)
		return vd_edit_refuse(edit, VD_EDIT_TOO_LONG);
	if ((int64_t)edit->len + delta > edit->capacity)
		return vd_edit_refuse(edit, VD_EDIT_NO_ROOM);
	return 0;
}

/* Adds delta to the IP and UDP length fields; the L4 checksum is the
 * caller's. */
static void lengths_update(struct vd_packet_edit *edit, int32_t delta)
{
	uint32_t off = is_v4(edit) ? 2u : 4u;
	uint8_t bytes[2];

	put16(bytes, (uint32_t)((int32_t)get16(edit->buf + off) + delta));
	if (is_v4(edit))
		vd_edit_ip4_write(edit, off, bytes, 2);
	else
		memcpy(edit->buf + off, bytes, 2);
	if (edit->pkt->l4_proto == IPPROTO_UDP) {
		off = edit->l4_off + 4;
		put16(edit->buf + off, (uint32_t)((int32_t)get16(edit->buf + off) + delta));
	}
}

/* Replaces [off, off + old_n) of the buffer with n bytes, moving the rest,
 * and brings every length, checksum and the view up to date. */
static void payload_resize(struct vd_packet_edit *edit, uint32_t off, uint32_t old_n,
			   const uint8_t *bytes, uint32_t n)
{
	struct vd_packet *pkt = edit->pkt;
	int32_t delta = (int32_t)n - (int32_t)old_n;
	uint32_t old_l4_len = l4_length(edit);

	memmove(edit->buf + off + n, edit->buf + off + old_n, edit->len - off - old_n);
	if (n)
		memcpy(edit->buf + off, bytes, n);
	lengths_update(edit, delta);
	edit->len = (uint32_t)((int32_t)edit->len + delta);
	pkt->caplen = pkt->len = edit->len;
	/* Same headers, so the parse succeeds and offsets stay where they were;
	 * the kernel flags (GSO, CSUM_NOT_READY) survive it. */
	vd_packet_parse(pkt);
	if (pkt->l4_proto == IPPROTO_TCP)
		edit->tcp_length_delta += delta;
	switch (edit->l4_csum_state) {
	case L4_CSUM_FULL:
	case L4_CSUM_STALE:
		vd_edit_l4_csum_compute(edit);
		edit->l4_csum_state = L4_CSUM_FULL;
		pkt->flags &= (uint16_t)~VD_PACKET_CSUM_NOT_READY;
		break;
	case L4_CSUM_PARTIAL:
		/* Only the length word of the pseudo-header changed. */
		vd_edit_pseudo_change(edit, old_l4_len, l4_length(edit));
		break;
	default: /* L4_CSUM_ZERO stays 0 */
		break;
	}
}

VD_EXPORT int vd_packet_edit_replace_payload(struct vd_packet_edit *edit, uint32_t start, uint32_t end,
				   const uint8_t *bytes, uint32_t n)
{
	const struct vd_packet *pkt = edit->pkt;
	uint32_t off, old_n;
	int64_t delta;
	int err;

	err = vd_edit_ready(edit);
	if (err)
		return err;
	if (start > end || end > pkt->payload_len || (n && !bytes))
		return vd_edit_refuse(edit, VD_EDIT_INVALID);
	err = payload_check(edit);
	if (err)
		return err;
	off = (uint32_t)(pkt->payload - pkt->data) + start;
	old_n = end - start;
	delta = (int64_t)n - old_n;
	if (delta == 0) {
		if (n == 0 || memcmp(edit->buf + off, bytes, n) == 0)
			return 0;
		err = vd_edit_begin(edit);
		if (err)
			return err;
		vd_edit_l4_write(edit, off, bytes, n);
	} else {
		err = resize_check(edit, delta);
		if (err)
			return err;
		payload_resize(edit, off, old_n, bytes, n);
	}
	edit->fields |= VD_EDIT_PAYLOAD;
	return 0;
}
