/* nfq_message.c - decode an NFQUEUE packet message into a vd_packet. */
#include <arpa/inet.h> /* before the linux/ headers: glibc owns struct in_addr */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "nfq_message.h"
#include "nl_attr.h"


/* Minimum payload length of each attribute the decoder reads; 0: any. */
static const uint16_t attr_min_len[NFQA_MAX + 1] = {
	[NFQA_PACKET_HDR] = sizeof(struct nfqnl_msg_packet_hdr),
	[NFQA_MARK] = sizeof(uint32_t),
	[NFQA_TIMESTAMP] = VD_NL_TIMESTAMP_LEN,
	[NFQA_IFINDEX_INDEV] = sizeof(uint32_t),
	[NFQA_IFINDEX_OUTDEV] = sizeof(uint32_t),
	[NFQA_IFINDEX_PHYSINDEV] = sizeof(uint32_t),
	[NFQA_IFINDEX_PHYSOUTDEV] = sizeof(uint32_t),
	[NFQA_HWADDR] = VD_NL_HWADDR_LEN,
	[NFQA_CT_INFO] = sizeof(uint32_t),
	[NFQA_CAP_LEN] = sizeof(uint32_t),
	[NFQA_SKB_INFO] = sizeof(uint32_t),
	[NFQA_UID] = sizeof(uint32_t),
	[NFQA_GID] = sizeof(uint32_t),
};

static void decode_meta(const struct nlattr *const *attr, struct vd_packet *pkt)
{
	vd_nl_decode_u32(attr, NFQA_MARK, VD_META_MARK, &pkt->mark, pkt);
	vd_nl_decode_u32(attr, NFQA_IFINDEX_INDEV, VD_META_INDEV, &pkt->indev, pkt);
	vd_nl_decode_u32(attr, NFQA_IFINDEX_OUTDEV, VD_META_OUTDEV, &pkt->outdev, pkt);
	vd_nl_decode_u32(attr, NFQA_IFINDEX_PHYSINDEV, VD_META_PHYSINDEV, &pkt->physindev, pkt);
	vd_nl_decode_u32(attr, NFQA_IFINDEX_PHYSOUTDEV, VD_META_PHYSOUTDEV, &pkt->physoutdev,
			    pkt);
	vd_nl_decode_u32(attr, NFQA_UID, VD_META_UID, &pkt->uid, pkt);
	vd_nl_decode_u32(attr, NFQA_GID, VD_META_GID, &pkt->gid, pkt);
	vd_nl_decode_u32(attr, NFQA_SKB_INFO, VD_META_SKB_INFO, &pkt->skb_info, pkt);
	vd_nl_decode_u32(attr, NFQA_CT_INFO, VD_META_CT, &pkt->ct_state, pkt);

	if (attr[NFQA_TIMESTAMP])
		vd_nl_decode_timestamp(attr[NFQA_TIMESTAMP], pkt);
	if (attr[NFQA_HWADDR])
		vd_nl_decode_hwaddr(attr[NFQA_HWADDR], pkt);
	if (attr[NFQA_SECCTX]) {
		pkt->secctx = mnl_attr_get_payload(attr[NFQA_SECCTX]);
		pkt->secctx_len = mnl_attr_get_payload_len(attr[NFQA_SECCTX]);
		/* The kernel counts the terminating NUL; the view does not. */
		if (pkt->secctx_len && pkt->secctx[pkt->secctx_len - 1] == '\0')
			pkt->secctx_len--;
		pkt->meta |= VD_META_SECCTX;
	}
	if (attr[NFQA_CT])
		vd_nl_decode_ct_mark(attr[NFQA_CT], pkt);
}

/* Hot path: no allocation, no syscall; the payload stays where the kernel put it. */
int vd_nfq_message_decode(const struct nlmsghdr *nlh, struct vd_packet *pkt)
{
	const struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	struct vd_nl_attr_table t = { attr, attr_min_len, NFQA_MAX };
	const struct nfqnl_msg_packet_hdr *ph;
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	const uint8_t *data = NULL;
	uint32_t caplen = 0, len;

	/* A packet gets a verdict as long as its header could be read. */
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*nfg))
		goto invalid;
	vd_nl_attr_parse(nlh, sizeof(*nfg), &t);
	if (!attr[NFQA_PACKET_HDR])
		goto invalid;

	if (attr[NFQA_PAYLOAD]) {
		data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		caplen = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	len = attr[NFQA_CAP_LEN] ? vd_nl_attr_u32(attr[NFQA_CAP_LEN]) : caplen;
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

/* The walk is by hand, not mnl_attr_parse: the datagram may have been cut
 * short (MSG_TRUNC), so nlmsg_len cannot be trusted as the end, and only
 * what was received may be read. */
int vd_nfq_message_packet_id(const void *buf, size_t len, uint32_t *id)
{
	const struct nlmsghdr *nlh = buf;
	size_t end, off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));

	if (len < NLMSG_HDRLEN || nlh->nlmsg_type != VD_NFQ_MSG_PACKET)
		goto none;
	end = nlh->nlmsg_len < len ? nlh->nlmsg_len : len;
	while (off + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const struct nlattr *)((const uint8_t *)buf + off);
		size_t alen = a->nla_len;

		if (alen < NLA_HDRLEN)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == NFQA_PACKET_HDR &&
		    alen >= NLA_HDRLEN + sizeof(struct nfqnl_msg_packet_hdr) && off + alen <= end) {
			const struct nfqnl_msg_packet_hdr *ph =
				(const void *)((const uint8_t *)a + NLA_HDRLEN);
			*id = ntohl(ph->packet_id);
			return 0;
		}
		off += NLA_ALIGN(alen);
	}
none:
	errno = ENOENT;
	return -1;
}
