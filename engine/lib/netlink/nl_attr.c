/* nl_attr.c - attribute tables and the decoders NFQUEUE and NFLOG share. */
#include <arpa/inet.h> /* before the linux/ headers: glibc owns struct in_addr */
#include <endian.h>
#include <string.h>

#include <linux/netfilter/nfnetlink_conntrack.h>

#include "nl_attr.h"

static int attr_cb(const struct nlattr *a, void *data)
{
	struct vd_nl_attr_table *t = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type > t->max || mnl_attr_get_payload_len(a) < t->min_len[type])
		return MNL_CB_OK;
	t->attr[type] = a;
	return MNL_CB_OK;
}

void vd_nl_attr_parse(const struct nlmsghdr *nlh, unsigned offset, struct vd_nl_attr_table *t)
{
	mnl_attr_parse(nlh, offset, attr_cb, t);
}

void vd_nl_attr_parse_nested(const struct nlattr *nest, struct vd_nl_attr_table *t)
{
	/* mnl_attr_parse_nested stops at an attribute that runs past the
	 * nest, so a nest cut short loses its tail, never more. */
	mnl_attr_parse_nested(nest, attr_cb, t);
}

uint32_t vd_nl_attr_u32(const struct nlattr *a)
{
	return ntohl(mnl_attr_get_u32(a));
}

uint16_t vd_nl_attr_u16(const struct nlattr *a)
{
	return ntohs(mnl_attr_get_u16(a));
}

void vd_nl_decode_u32(const struct nlattr *const *attr, unsigned type, uint32_t bit,
		      uint32_t *field, struct vd_packet *pkt)
{
	if (attr[type]) {
		*field = vd_nl_attr_u32(attr[type]);
		pkt->meta |= bit;
	}
}

void vd_nl_decode_timestamp(const struct nlattr *a, struct vd_packet *pkt)
{
	uint64_t sec, usec;
	const uint8_t *p = mnl_attr_get_payload(a);

	/* Attributes are 4-byte aligned; a be64 wants 8. */
	memcpy(&sec, p, sizeof(sec));
	memcpy(&usec, p + 8, sizeof(usec));
	pkt->timestamp_ns = be64toh(sec) * 1000000000ull + be64toh(usec) * 1000ull;
	pkt->meta |= VD_META_TIMESTAMP;
}

void vd_nl_decode_hwaddr(const struct nlattr *a, struct vd_packet *pkt)
{
	const uint8_t *p = mnl_attr_get_payload(a);
	uint16_t n = (uint16_t)(p[0] << 8 | p[1]);

	pkt->hwaddr_len = n < sizeof(pkt->hwaddr) ? n : sizeof(pkt->hwaddr);
	memcpy(pkt->hwaddr, p + 4, pkt->hwaddr_len);
	pkt->meta |= VD_META_HWADDR;
}

void vd_nl_decode_ct_mark(const struct nlattr *nest, struct vd_packet *pkt)
{
	/* Only the connmark is read: types above CTA_MARK are skipped by the
	 * table's bound, so it stays a few pointers long. */
	static const uint16_t min_len[CTA_MARK + 1] = { [CTA_MARK] = sizeof(uint32_t) };
	const struct nlattr *attr[CTA_MARK + 1] = { NULL };
	struct vd_nl_attr_table t = { attr, min_len, CTA_MARK };

	vd_nl_attr_parse_nested(nest, &t);
	if (attr[CTA_MARK]) {
		pkt->ct_mark = vd_nl_attr_u32(attr[CTA_MARK]);
		pkt->meta |= VD_META_CT_MARK;
	}
}
