/* nfq_message.c - decode an NFQUEUE packet message into a vd_packet. */
#include <arpa/inet.h> /* before the linux/ headers: glibc owns struct in_addr */
#include <errno.h>
#include <endian.h>
#include <stdbool.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "nfq_message.h"


/* Minimum payload length of each attribute the decoder reads; 0: any. */
static const uint16_t attr_min_len[NFQA_MAX + 1] = {
	[NFQA_PACKET_HDR] = sizeof(struct nfqnl_msg_packet_hdr),
	[NFQA_MARK] = sizeof(uint32_t),
	[NFQA_TIMESTAMP] = sizeof(struct nfqnl_msg_packet_timestamp),
	[NFQA_IFINDEX_INDEV] = sizeof(uint32_t),
	[NFQA_IFINDEX_OUTDEV] = sizeof(uint32_t),
	[NFQA_IFINDEX_PHYSINDEV] = sizeof(uint32_t),
	[NFQA_IFINDEX_PHYSOUTDEV] = sizeof(uint32_t),
	[NFQA_HWADDR] = sizeof(struct nfqnl_msg_packet_hw),
	[NFQA_CT_INFO] = sizeof(uint32_t),
	[NFQA_CAP_LEN] = sizeof(uint32_t),
	[NFQA_SKB_INFO] = sizeof(uint32_t),
	[NFQA_UID] = sizeof(uint32_t),
	[NFQA_GID] = sizeof(uint32_t),
};

/* Fills the table indexed by attribute type, validate-then-use: a known
 * attribute that is too short is left out (its meta bit stays clear) and the
 * walk goes on, unknown types are skipped. Not nfq_nlmsg_parse: in
 * libnetfilter_queue 1.0.5 it validates NFQA_SECCTX as a u32, so a real
 * security context would end the parse before the payload. */
static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **table = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type > NFQA_MAX || mnl_attr_get_payload_len(a) < attr_min_len[type])
		return MNL_CB_OK;
	table[type] = a;
	return MNL_CB_OK;
}

static uint32_t attr_u32(const struct nlattr *a)
{
	return ntohl(mnl_attr_get_u32(a));
}

/* The conntrack nest carries the connmark; only CTA_MARK is wanted, so walk
 * it rather than build a whole attribute table. */
static void decode_ct(const struct nlattr *nest, struct vd_packet *pkt)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest) {
		if (mnl_attr_get_type(a) == CTA_MARK &&
		    mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
			pkt->ct_mark = attr_u32(a);
			pkt->meta |= VD_META_CT_MARK;
		}
	}
}

static void decode_optional_u32(struct nlattr *const *attr, int type, uint32_t bit,
				uint32_t *field, struct vd_packet *pkt)
{
	if (attr[type]) {
		*field = attr_u32(attr[type]);
		pkt->meta |= bit;
	}
}

static void decode_meta(struct nlattr *const *attr, struct vd_packet *pkt)
{
	decode_optional_u32(attr, NFQA_MARK, VD_META_MARK, &pkt->mark, pkt);
	decode_optional_u32(attr, NFQA_IFINDEX_INDEV, VD_META_INDEV, &pkt->indev, pkt);
	decode_optional_u32(attr, NFQA_IFINDEX_OUTDEV, VD_META_OUTDEV, &pkt->outdev, pkt);
	decode_optional_u32(attr, NFQA_IFINDEX_PHYSINDEV, VD_META_PHYSINDEV, &pkt->physindev, pkt);
	decode_optional_u32(attr, NFQA_IFINDEX_PHYSOUTDEV, VD_META_PHYSOUTDEV, &pkt->physoutdev,
			    pkt);
	decode_optional_u32(attr, NFQA_UID, VD_META_UID, &pkt->uid, pkt);
	decode_optional_u32(attr, NFQA_GID, VD_META_GID, &pkt->gid, pkt);
	decode_optional_u32(attr, NFQA_SKB_INFO, VD_META_SKB_INFO, &pkt->skb_info, pkt);
	decode_optional_u32(attr, NFQA_CT_INFO, VD_META_CT, &pkt->ct_state, pkt);

	if (attr[NFQA_TIMESTAMP]) {
		struct nfqnl_msg_packet_timestamp ts;
		/* Attributes are 4-byte aligned; the struct wants 8. */
		memcpy(&ts, mnl_attr_get_payload(attr[NFQA_TIMESTAMP]), sizeof(ts));
		pkt->timestamp_ns = be64toh(ts.sec) * 1000000000ull + be64toh(ts.usec) * 1000ull;
		pkt->meta |= VD_META_TIMESTAMP;
	}
	if (attr[NFQA_HWADDR]) {
		const struct nfqnl_msg_packet_hw *hw = mnl_attr_get_payload(attr[NFQA_HWADDR]);
		uint16_t n = ntohs(hw->hw_addrlen);
		pkt->hwaddr_len = n < sizeof(pkt->hwaddr) ? n : sizeof(pkt->hwaddr);
		memcpy(pkt->hwaddr, hw->hw_addr, pkt->hwaddr_len);
		pkt->meta |= VD_META_HWADDR;
	}
	if (attr[NFQA_SECCTX]) {
		pkt->secctx = mnl_attr_get_payload(attr[NFQA_SECCTX]);
		pkt->secctx_len = mnl_attr_get_payload_len(attr[NFQA_SECCTX]);
		/* The kernel counts the terminating NUL; the view does not. */
		if (pkt->secctx_len && pkt->secctx[pkt->secctx_len - 1] == '\0')
			pkt->secctx_len--;
		pkt->meta |= VD_META_SECCTX;
	}
	if (attr[NFQA_CT])
		decode_ct(attr[NFQA_CT], pkt);
}

/* Hot path: no allocation, no syscall; the payload stays where the kernel put it. */
int vd_nfq_message_decode(const struct nlmsghdr *nlh, struct vd_packet *pkt)
{
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	const struct nfqnl_msg_packet_hdr *ph;
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	const uint8_t *data = NULL;
	uint32_t caplen = 0, len;

	/* A packet gets a verdict as long as its header could be read. */
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*nfg))
		goto invalid;
	mnl_attr_parse(nlh, sizeof(*nfg), attr_cb, attr);
	if (!attr[NFQA_PACKET_HDR])
		goto invalid;

	if (attr[NFQA_PAYLOAD]) {
		data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		caplen = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	len = attr[NFQA_CAP_LEN] ? attr_u32(attr[NFQA_CAP_LEN]) : caplen;
	vd_packet_view_init(pkt, data, caplen, len);

	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	pkt->id = ntohl(ph->packet_id);
	pkt->hw_protocol = ntohs(ph->hw_protocol);
	pkt->hook = ph->hook;
	pkt->family = nfg->nfgen_family;
	pkt->queue = ntohs(nfg->res_id);
	decode_meta(attr, pkt);
	if (pkt->skb_info & NFQA_SKB_GSO)
		pkt->flags |= VD_PACKET_GSO;
	if (pkt->skb_info & NFQA_SKB_CSUMNOTREADY)
		pkt->flags |= VD_PACKET_CSUM_NOT_READY;
	vd_packet_parse(pkt);
	return 0;
invalid:
	errno = EINVAL;
	return -1;
}
