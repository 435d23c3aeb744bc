/* helpers.c - packet builders shared by the cmocka unit tests. */
#include "helpers.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

/* Appends to a caller buffer, failing the test instead of overflowing. */
struct vt_writer {
	uint8_t *buf;
	size_t size;
	size_t len;
};

static uint8_t *writer_take(struct vt_writer *w, size_t n)
{
	uint8_t *p;

	if (n > w->size - w->len)
		fail_msg("packet builder: %zu bytes do not fit in %zu", w->len + n, w->size);
	p = w->buf + w->len;
	memset(p, 0, n);
	w->len += n;
	return p;
}

static void put_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_address(uint8_t *p, int family, const char *text, const char *fallback)
{
	if (inet_pton(family, text ? text : fallback, p) != 1)
		fail_msg("packet builder: bad address \"%s\"", text ? text : fallback);
}

static void fill_pattern(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)i;
}

/* NOPs ended by an end-of-options byte: the same in IPv4 and TCP. */
static void fill_options(uint8_t *p, size_t n)
{
	memset(p, 1, n);
	if (n)
		p[n - 1] = 0;
}

static void tcp_write(struct vt_writer *w, const struct vt_l4 *l4)
{
	size_t header_len = 20u + l4->tcp_options_len;
	uint8_t *tcp = writer_take(w, header_len);

	put_be16(tcp, l4->sport);
	put_be16(tcp + 2, l4->dport);
	tcp[7] = 1; /* sequence number 1 */
	tcp[12] = (uint8_t)((l4->tcp_data_offset ? l4->tcp_data_offset : header_len / 4) << 4);
	tcp[13] = l4->tcp_flags;
	put_be16(tcp + 14, 65535); /* window */
	fill_options(tcp + 20, l4->tcp_options_len);
}

static void udp_write(struct vt_writer *w, const struct vt_l4 *l4)
{
	uint8_t *udp = writer_take(w, 8);

	put_be16(udp, l4->sport);
	put_be16(udp + 2, l4->dport);
	put_be16(udp + 4, (uint32_t)((int)(8 + l4->payload_len) + l4->udp_len_adjust));
}

static void l4_header_write(struct vt_writer *w, const struct vt_l4 *l4)
{
	uint8_t *p;

	switch (l4->proto) {
	case IPPROTO_TCP:
		tcp_write(w, l4);
		break;
	case IPPROTO_UDP:
		udp_write(w, l4);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		p = writer_take(w, 8);
		p[0] = l4->icmp_type;
		p[1] = l4->icmp_code;
		p[5] = 1; /* echo identifier and sequence: 1, 0 */
		break;
	case IPPROTO_SCTP:
		p = writer_take(w, 12);
		put_be16(p, l4->sport);
		put_be16(p + 2, l4->dport);
		p[7] = 1; /* verification tag */
		break;
	default:
		break;
	}
}

static void l4_write(struct vt_writer *w, const struct vt_l4 *l4)
{
	uint8_t *payload;

	l4_header_write(w, l4);
	payload = writer_take(w, l4->payload_len);
	if (l4->payload)
		memcpy(payload, l4->payload, l4->payload_len);
	else
		fill_pattern(payload, l4->payload_len);
}

static uint16_t ipv4_checksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t vt_ipv4_build(uint8_t *buf, size_t size, const struct vt_ipv4 *ip,
		     const struct vt_l4 *l4)
{
	static const struct vt_ipv4 defaults;
	struct vt_writer w = { buf, size, 0 };
	size_t header_len;
	uint8_t *h;

	if (!ip)
		ip = &defaults;
	header_len = 20u + ip->options_len;
	h = writer_take(&w, header_len);
	l4_write(&w, l4);

	h[0] = (uint8_t)(0x40 | (ip->ihl ? ip->ihl : header_len / 4));
	put_be16(h + 2, (uint32_t)((int)w.len + ip->total_len_adjust));
	put_be16(h + 4, 0x1234); /* identification */
	put_be16(h + 6, ip->fragment);
	h[8] = ip->ttl ? ip->ttl : 64;
	h[9] = l4->proto;
	put_address(h + 12, AF_INET, ip->src, VT_IPV4_SRC);
	put_address(h + 16, AF_INET, ip->dst, VT_IPV4_DST);
	fill_options(h + 20, ip->options_len);
	put_be16(h + 10, ipv4_checksum(h, header_len));

	writer_take(&w, ip->padding);
	return w.len;
}

static size_t ext_len(const struct vt_ext *e)
{
	if (e->type == IPPROTO_FRAGMENT)
		return 8;
	if (e->len)
		return e->len;
	return e->type == IPPROTO_AH ? 12 : 8;
}

/* Writes one extension header whose next-header byte is next. */
static void ext_write(struct vt_writer *w, const struct vt_ext *e, uint8_t next)
{
	size_t len = ext_len(e);
	uint8_t *h = writer_take(w, len);

	h[0] = next;
	switch (e->type) {
	case IPPROTO_FRAGMENT:
		put_be16(h + 2, (uint32_t)(e->frag_offset << 3 | (e->frag_more ? 1 : 0)));
		h[7] = 0x42; /* identification */
		break;
	case IPPROTO_AH:
		h[1] = (uint8_t)(len / 4 - 2);
		h[7] = 0x11; /* SPI */
		break;
	case IPPROTO_ROUTING:
		h[1] = (uint8_t)(len / 8 - 1);
		h[2] = 4; /* segment routing, no segments left */
		break;
	default: /* hop-by-hop or destination options: one PadN option */
		h[1] = (uint8_t)(len / 8 - 1);
		h[2] = 1;
		h[3] = (uint8_t)(len - 4);
		break;
	}
}

size_t vt_ipv6_ext_len(const struct vt_ipv6 *ip)
{
	size_t len = 0;

	for (size_t i = 0; ip && i < ip->n_ext; i++)
		len += ext_len(&ip->ext[i]);
	return len;
}

size_t vt_ipv6_build(uint8_t *buf, size_t size, const struct vt_ipv6 *ip,
		     const struct vt_l4 *l4)
{
	static const struct vt_ipv6 defaults;
	struct vt_writer w = { buf, size, 0 };
	uint8_t *h;

	if (!ip)
		ip = &defaults;
	h = writer_take(&w, 40);
	for (size_t i = 0; i < ip->n_ext; i++)
		ext_write(&w, &ip->ext[i],
			  i + 1 < ip->n_ext ? ip->ext[i + 1].type : l4->proto);
	l4_write(&w, l4);

	h[0] = 0x60;
	h[3] = 0x01; /* flow label */
	if (!ip->jumbo)
		put_be16(h + 4, (uint32_t)((int)w.len - 40 + ip->payload_len_adjust));
	h[6] = ip->n_ext ? ip->ext[0].type : l4->proto;
	h[7] = ip->hop_limit ? ip->hop_limit : 64;
	put_address(h + 8, AF_INET6, ip->src, VT_IPV6_SRC);
	put_address(h + 24, AF_INET6, ip->dst, VT_IPV6_DST);

	writer_take(&w, ip->padding);
	return w.len;
}

enum vd_parse_error vt_parse(struct vd_packet *pkt, const uint8_t *data, size_t caplen,
			     size_t len)
{
	vd_packet_view_init(pkt, data, (uint32_t)caplen, (uint32_t)len);
	return vd_packet_parse(pkt);
}

uint8_t *vt_copy_exact(const uint8_t *src, size_t n)
{
	/* malloc(0) may return NULL; one spare byte keeps the pointer real
	 * while the parser still sees caplen 0. */
	uint8_t *copy = malloc(n ? n : 1);

	if (!copy)
		fail_msg("vt_copy_exact: out of memory");
	if (n)
		memcpy(copy, src, n);
	return copy;
}

/* ---- reference checksums: plain loops, nothing shared with libverdict ---- */

uint64_t vt_ref_sum(const uint8_t *p, size_t n, uint64_t sum)
{
	for (size_t i = 0; i < n; i++)
		sum += (i % 2 == 0) ? (uint64_t)p[i] << 8 : p[i];
	return sum;
}

uint16_t vt_ref_finish(uint64_t sum)
{
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t be16_at(const uint8_t *p)
{
	return (size_t)p[0] << 8 | p[1];
}

static bool ref_is_ext(uint8_t next)
{
	return next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS ||
	       next == IPPROTO_AH || next == IPPROTO_FRAGMENT;
}

bool vt_ref_l4_locate(const uint8_t *p, size_t len, struct vt_l4_ref *ref)
{
	size_t off, end;
	uint8_t next;

	memset(ref, 0, sizeof(*ref));
	if (len < 20)
		return false;
	if (p[0] >> 4 == 4) {
		off = (size_t)(p[0] & 0x0f) * 4;
		end = be16_at(p + 2);
		next = p[9];
	} else {
		off = 40;
		end = 40 + be16_at(p + 4);
		next = p[6];
		while (ref_is_ext(next) && off + 8 <= end) {
			size_t ext = next == IPPROTO_FRAGMENT ? 8
				     : next == IPPROTO_AH   ? ((size_t)p[off + 1] + 2) * 4
							    : ((size_t)p[off + 1] + 1) * 8;
			next = p[off];
			off += ext;
		}
	}
	if (end > len || off > end)
		return false;
	ref->l4_off = off;
	ref->l4_len = end - off;
	ref->proto = next;
	ref->pseudo = true;
	if (next == IPPROTO_TCP)
		ref->csum_off = off + 16;
	else if (next == IPPROTO_UDP)
		ref->csum_off = off + 6;
	else if (next == IPPROTO_ICMPV6 && p[0] >> 4 == 6)
		ref->csum_off = off + 2;
	else if (next == IPPROTO_ICMP && p[0] >> 4 == 4) {
		ref->csum_off = off + 2;
		ref->pseudo = false;
	}
	return ref->csum_off != 0 && ref->csum_off + 2 <= end;
}

static uint64_t ref_pseudo(const uint8_t *p, const struct vt_l4_ref *ref)
{
	uint64_t sum = 0;

	if (!ref->pseudo)
		return 0;
	if (p[0] >> 4 == 4)
		sum = vt_ref_sum(p + 12, 8, 0);
	else
		sum = vt_ref_sum(p + 8, 32, 0);
	return sum + ref->proto + (ref->l4_len >> 16) + (ref->l4_len & 0xffff);
}

uint16_t vt_ref_l4_checksum(const uint8_t *p, size_t len)
{
	struct vt_l4_ref ref;
	uint64_t sum;
	uint16_t check;

	if (!vt_ref_l4_locate(p, len, &ref))
		fail_msg("vt_ref_l4_checksum: no L4 checksum in this packet");
	sum = ref_pseudo(p, &ref);
	/* The segment with its checksum field skipped (taken as 0). */
	sum = vt_ref_sum(p + ref.l4_off, ref.csum_off - ref.l4_off, sum);
	sum = vt_ref_sum(p + ref.csum_off + 2, ref.l4_off + ref.l4_len - ref.csum_off - 2, sum);
	check = vt_ref_finish(sum);
	if (check == 0 && ref.proto == IPPROTO_UDP)
		check = 0xffff;
	return check;
}

uint16_t vt_ref_l4_partial(const uint8_t *p, size_t len)
{
	struct vt_l4_ref ref;

	if (!vt_ref_l4_locate(p, len, &ref))
		fail_msg("vt_ref_l4_partial: no L4 checksum in this packet");
	return (uint16_t)~vt_ref_finish(ref_pseudo(p, &ref));
}

void vt_l4_checksum_fill(uint8_t *p, size_t len)
{
	struct vt_l4_ref ref;

	if (!vt_ref_l4_locate(p, len, &ref))
		fail_msg("vt_l4_checksum_fill: no L4 checksum in this packet");
	put_be16(p + ref.csum_off, vt_ref_l4_checksum(p, len));
}

uint16_t vt_ref_ipv4_checksum(const uint8_t *p)
{
	size_t header_len = (size_t)(p[0] & 0x0f) * 4;
	uint64_t sum = vt_ref_sum(p, 10, 0);

	return vt_ref_finish(vt_ref_sum(p + 12, header_len - 12, sum));
}

void vt_verdict_msg_read(const struct nlmsghdr *nlh, struct vt_verdict_msg *m)
{
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	assert_int_equal(nlh->nlmsg_type >> 8, NFNL_SUBSYS_QUEUE);
	*m = (struct vt_verdict_msg){ .type = nlh->nlmsg_type & 0xff, .queue = ntohs(nfg->res_id) };
	mnl_attr_for_each(a, nlh, sizeof(*nfg)) {
		if (mnl_attr_get_type(a) == NFQA_VERDICT_HDR) {
			const struct nfqnl_msg_verdict_hdr *vh = mnl_attr_get_payload(a);

			m->id = ntohl(vh->id);
			m->code = ntohl(vh->verdict);
		} else if (mnl_attr_get_type(a) == NFQA_MARK) {
			m->has_mark = true;
			m->mark = ntohl(mnl_attr_get_u32(a));
		}
	}
}
