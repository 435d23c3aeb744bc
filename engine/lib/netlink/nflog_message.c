/* nflog_message.c - decode an NFLOG packet message into a vd_packet. */
#include <arpa/inet.h> /* before the linux/ headers: glibc owns struct in_addr */
#include <errno.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "nflog_message.h"
#include "nl_attr.h"

/* Minimum payload length of each attribute the decoder reads; 0: any. A
 * minimum, not an exact length, as in nfq_message.c: a kernel that grows a
 * struct at its end still decodes. */
static const uint16_t attr_min_len[NFULA_MAX + 1] = {
	[NFULA_PACKET_HDR] = sizeof(struct nfulnl_msg_packet_hdr),
	[NFULA_MARK] = sizeof(uint32_t),
	[NFULA_TIMESTAMP] = VD_NL_TIMESTAMP_LEN,
	[NFULA_IFINDEX_INDEV] = sizeof(uint32_t),
	[NFULA_IFINDEX_OUTDEV] = sizeof(uint32_t),
	[NFULA_IFINDEX_PHYSINDEV] = sizeof(uint32_t),
	[NFULA_IFINDEX_PHYSOUTDEV] = sizeof(uint32_t),
	[NFULA_HWADDR] = VD_NL_HWADDR_LEN,
	[NFULA_UID] = sizeof(uint32_t),
	[NFULA_SEQ] = sizeof(uint32_t),
	[NFULA_SEQ_GLOBAL] = sizeof(uint32_t),
	[NFULA_GID] = sizeof(uint32_t),
	[NFULA_HWTYPE] = sizeof(uint16_t),
	[NFULA_HWLEN] = sizeof(uint16_t),
	[NFULA_CT_INFO] = sizeof(uint32_t),
};

static const uint16_t vlan_min_len[NFULA_VLAN_MAX + 1] = {
	[NFULA_VLAN_PROTO] = sizeof(uint16_t),
	[NFULA_VLAN_TCI] = sizeof(uint16_t),
};

/* The kernel sends both or neither; half a tag is not a tag. */
static void decode_vlan(const struct nlattr *nest, struct vd_packet *pkt)
{
	const struct nlattr *attr[NFULA_VLAN_MAX + 1] = { NULL };
	struct vd_nl_attr_table t = { attr, vlan_min_len, NFULA_VLAN_MAX };

	vd_nl_attr_parse_nested(nest, &t);
	if (attr[NFULA_VLAN_PROTO] && attr[NFULA_VLAN_TCI]) {
		pkt->vlan_proto = vd_nl_attr_u16(attr[NFULA_VLAN_PROTO]);
		pkt->vlan_tci = vd_nl_attr_u16(attr[NFULA_VLAN_TCI]);
		pkt->meta |= VD_META_VLAN;
	}
}

/* Link layer: address, device type, the headers. */
static void decode_link(const struct nlattr *const *attr, struct vd_packet *pkt)
{
	if (attr[NFULA_HWADDR])
		vd_nl_decode_hwaddr(attr[NFULA_HWADDR], pkt);
	if (attr[NFULA_HWTYPE]) {
		pkt->hw_type = vd_nl_attr_u16(attr[NFULA_HWTYPE]);
		pkt->meta |= VD_META_HWTYPE;
	}
	if (attr[NFULA_HWHEADER]) {
		uint16_t have = mnl_attr_get_payload_len(attr[NFULA_HWHEADER]);
		uint16_t want = attr[NFULA_HWLEN] ? vd_nl_attr_u16(attr[NFULA_HWLEN]) : have;

		/* HWLEN never stretches the view past the bytes that came. */
		pkt->hw_header = mnl_attr_get_payload(attr[NFULA_HWHEADER]);
		pkt->hw_header_len = want < have ? want : have;
		pkt->meta |= VD_META_HWHEADER;
	}
	if (attr[NFULA_L2HDR]) {
		pkt->l2_header = mnl_attr_get_payload(attr[NFULA_L2HDR]);
		pkt->l2_header_len = mnl_attr_get_payload_len(attr[NFULA_L2HDR]);
		pkt->meta |= VD_META_L2HDR;
	}
	if (attr[NFULA_VLAN])
		decode_vlan(attr[NFULA_VLAN], pkt);
}

static void decode_meta(const struct nlattr *const *attr, struct vd_packet *pkt)
{
	vd_nl_decode_u32(attr, NFULA_MARK, VD_META_MARK, &pkt->mark, pkt);
	vd_nl_decode_u32(attr, NFULA_IFINDEX_INDEV, VD_META_INDEV, &pkt->indev, pkt);
	vd_nl_decode_u32(attr, NFULA_IFINDEX_OUTDEV, VD_META_OUTDEV, &pkt->outdev, pkt);
	vd_nl_decode_u32(attr, NFULA_IFINDEX_PHYSINDEV, VD_META_PHYSINDEV, &pkt->physindev, pkt);
	vd_nl_decode_u32(attr, NFULA_IFINDEX_PHYSOUTDEV, VD_META_PHYSOUTDEV, &pkt->physoutdev, pkt);
	vd_nl_decode_u32(attr, NFULA_UID, VD_META_UID, &pkt->uid, pkt);
	vd_nl_decode_u32(attr, NFULA_GID, VD_META_GID, &pkt->gid, pkt);
	vd_nl_decode_u32(attr, NFULA_SEQ, VD_META_SEQ, &pkt->seq, pkt);
	vd_nl_decode_u32(attr, NFULA_SEQ_GLOBAL, VD_META_SEQ_GLOBAL, &pkt->seq_global, pkt);
	vd_nl_decode_u32(attr, NFULA_CT_INFO, VD_META_CT | VD_META_CT_INFO, &pkt->ct_state, pkt);
	if (attr[NFULA_PACKET_HDR]) {
		const struct nfulnl_msg_packet_hdr *ph = mnl_attr_get_payload(attr[NFULA_PACKET_HDR]);

		pkt->hw_protocol = ntohs(ph->hw_protocol);
		pkt->hook = ph->hook;
	}
	if (attr[NFULA_TIMESTAMP])
		vd_nl_decode_timestamp(attr[NFULA_TIMESTAMP], pkt);
	if (attr[NFULA_PREFIX]) {
		const char *p = mnl_attr_get_payload(attr[NFULA_PREFIX]);

		/* Handed out as a C string: only when it ends inside the attribute
		 * (the padding after it is not the attribute's). */
		if (memchr(p, '\0', mnl_attr_get_payload_len(attr[NFULA_PREFIX]))) {
			pkt->prefix = p;
			pkt->meta |= VD_META_PREFIX;
		}
	}
	if (attr[NFULA_CT])
		vd_nl_decode_ct_mark(attr[NFULA_CT], pkt);
	decode_link(attr, pkt);
}

/* NFLOG sends no original length (NFQUEUE has NFQA_CAP_LEN): take it from
 * the IP header, so that a packet cut by the copy range reads as cut by the
 * capture (VD_PACKET_TRUNCATED), not as malformed. */
static uint32_t wire_len(const uint8_t *data, uint32_t caplen)
{
	uint32_t ip_len = 0;

	if (caplen >= 4 && (data[0] >> 4) == 4)
		ip_len = (uint32_t)data[2] << 8 | data[3];
	else if (caplen >= 6 && (data[0] >> 4) == 6)
		ip_len = 40 + ((uint32_t)data[4] << 8 | data[5]);
	return ip_len > caplen ? ip_len : caplen;
}

/* Hot path: no allocation, no syscall; the payload stays where the kernel
 * put it and every pointer in pkt points into nlh. */
int vd_nflog_message_decode(const struct nlmsghdr *nlh, struct vd_packet *pkt)
{
	const struct nlattr *attr[NFULA_MAX + 1] = { NULL };
	struct vd_nl_attr_table t = { attr, attr_min_len, NFULA_MAX };
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	const uint8_t *data = NULL;
	uint32_t caplen = 0;

	/* Compared on nlmsg_len itself: the payload length would wrap below
	 * the netlink header's own size. */
	if (nlh->nlmsg_type != VD_NFLOG_MSG_PACKET ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nfg))) {
		errno = EINVAL;
		return -1;
	}
	vd_nl_attr_parse(nlh, sizeof(*nfg), &t);
	if (attr[NFULA_PAYLOAD] && mnl_attr_get_payload_len(attr[NFULA_PAYLOAD]) > 0) {
		data = mnl_attr_get_payload(attr[NFULA_PAYLOAD]);
		caplen = mnl_attr_get_payload_len(attr[NFULA_PAYLOAD]);
	}
	vd_packet_view_init(pkt, data, caplen, wire_len(data, caplen));
	pkt->source = VD_SOURCE_NFLOG;
	pkt->family = nfg->nfgen_family;
	pkt->queue = ntohs(nfg->res_id);
	decode_meta(attr, pkt);
	if (caplen > 0)
		vd_packet_parse(pkt);
	return 0;
}
