/* test_nflog_message.c - NFLOG packet messages built here decode into views:
 * every attribute, absent ones, malformed lengths and truncated messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "helpers.h"
#include "nflog_message.h"

/* Test-only bit for check_view: NFULA_PACKET_HDR was read (it has no meta bit). */
#define HDR_SEEN (1u << 31)
#define ALL_META (VD_META_MARK | VD_META_TIMESTAMP | VD_META_INDEV | VD_META_OUTDEV |   \
		  VD_META_PHYSINDEV | VD_META_PHYSOUTDEV | VD_META_HWADDR | VD_META_UID | \
		  VD_META_GID | VD_META_CT | VD_META_CT_MARK | VD_META_PREFIX |          \
		  VD_META_SEQ | VD_META_SEQ_GLOBAL | VD_META_HWTYPE | VD_META_HWHEADER | \
		  VD_META_VLAN | VD_META_L2HDR | VD_META_CT_INFO)
#define NO_SHORTEN NFULA_UNSPEC /* put_all: every attribute well formed */

/* Netlink messages are 4-byte aligned in every receive buffer; so are ours. */
#define MSG_BUF(name) _Alignas(8) char name[2048]

/* 14 bytes of Ethernet header (HWLEN says 14) and 2 bytes beyond it. */
static const uint8_t mac_header[16] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0, 0xee, 0xee };
/* The L2 header with its 802.1Q tag. */
static const uint8_t vlan_header[18] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1,
					 0x81, 0, 0, 42, 8, 0 };

static uint8_t ip[VT_PACKET_MAX];
static size_t ip_len;

/* IPv4 UDP 198.18.0.1:1234 -> 198.18.0.2:53 with 4 bytes of data. */
static void udp4_payload(void)
{
	struct vt_ipv4 ip4 = { .src = "198.18.0.1", .dst = "198.18.0.2" };
	struct vt_l4 l4 = { .proto = IPPROTO_UDP, .sport = 1234, .dport = 53, .payload_len = 4 };

	ip_len = vt_ipv4_build(ip, sizeof(ip), &ip4, &l4);
}

static struct nlmsghdr *put_header(char *buf, uint16_t group, uint8_t family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = VD_NFLOG_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(group);
	return nlh;
}

/* One attribute, one byte too short when its type is `shorten`. */
static void put(struct nlmsghdr *nlh, uint16_t type, size_t len, const void *data,
		uint16_t shorten)
{
	mnl_attr_put(nlh, type, type == shorten ? len - 1 : len, data);
}

/* A big-endian u16 or u32 (size 2 or 4), one byte short as put() says. */
static void put_be(struct nlmsghdr *nlh, uint16_t type, uint32_t v, size_t size, uint16_t shorten)
{
	uint16_t v16 = htons((uint16_t)v);
	uint32_t v32 = htonl(v);

	put(nlh, type, size, size == 2 ? (const void *)&v16 : &v32, shorten);
}

/* Every NFULA attribute, an unknown one among them, then the UDP payload.
 * shorten == NFULA_CT or NFULA_VLAN cuts a leaf inside the nest. */
static void put_all(struct nlmsghdr *nlh, uint16_t shorten)
{
	struct nfulnl_msg_packet_hdr ph = { .hw_protocol = htons(0x0800), .hook = NF_INET_LOCAL_IN };
	struct nfulnl_msg_packet_timestamp ts = { .sec = htobe64(1700000000), .usec = htobe64(250) };
	struct nfulnl_msg_packet_hw hw = { .hw_addrlen = htons(6), .hw_addr = { 2, 0, 0, 0, 0, 9 } };
	struct nlattr *nest;

	udp4_payload();
	put(nlh, NFULA_PACKET_HDR, sizeof(ph), &ph, shorten);
	put_be(nlh, NFULA_MARK, 0x1234, 4, shorten);
	put(nlh, NFULA_TIMESTAMP, sizeof(ts), &ts, shorten);
	put_be(nlh, NFULA_IFINDEX_INDEV, 2, 4, shorten);
	put_be(nlh, NFULA_IFINDEX_OUTDEV, 3, 4, shorten);
	put_be(nlh, NFULA_IFINDEX_PHYSINDEV, 4, 4, shorten);
	put_be(nlh, NFULA_IFINDEX_PHYSOUTDEV, 5, 4, shorten);
	put(nlh, NFULA_HWADDR, sizeof(hw), &hw, shorten);
	put(nlh, NFULA_PREFIX, sizeof("drop-in"), "drop-in", shorten); /* short: no NUL */
	put_be(nlh, NFULA_UID, 1000, 4, shorten);
	put_be(nlh, NFULA_GID, 100, 4, shorten);
	put_be(nlh, NFULA_SEQ, 41, 4, shorten);
	put_be(nlh, NFULA_SEQ_GLOBAL, 4242, 4, shorten);
	put_be(nlh, NFULA_HWTYPE, 1, 2, shorten);
	put(nlh, NFULA_HWHEADER, sizeof(mac_header), mac_header, shorten);
	put_be(nlh, NFULA_HWLEN, 14, 2, shorten);
	mnl_attr_put_u32(nlh, NFULA_MAX + 1, 0xdeadbeef); /* unknown: skipped */
	nest = mnl_attr_nest_start(nlh, NFULA_CT);
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(8));
	put_be(nlh, CTA_MARK, 0xbeef, 4, shorten == NFULA_CT ? CTA_MARK : NO_SHORTEN);
	mnl_attr_nest_end(nlh, nest);
	put_be(nlh, NFULA_CT_INFO, VD_CT_NEW, 4, shorten);
	nest = mnl_attr_nest_start(nlh, NFULA_VLAN);
	put_be(nlh, NFULA_VLAN_PROTO, 0x8100, 2, NO_SHORTEN);
	put_be(nlh, NFULA_VLAN_TCI, 42, 2, shorten == NFULA_VLAN ? NFULA_VLAN_TCI : NO_SHORTEN);
	mnl_attr_nest_end(nlh, nest);
	put(nlh, NFULA_L2HDR, sizeof(vlan_header), vlan_header, shorten);
	mnl_attr_put(nlh, NFULA_PAYLOAD, ip_len, ip);
}

static void check_bytes(const uint8_t *got, bool want, const uint8_t *bytes, size_t n)
{
	if (want)
		assert_memory_equal(got, bytes, n);
	else
		assert_null(got);
}

/* Each field holds put_all's value when its bit is expected, else zero. */
#define FIELD(bit, field, value) assert_int_equal(pkt->field, (expect & (bit)) ? (value) : 0)

static void check_view(const struct vd_packet *pkt, uint32_t expect)
{
	assert_int_equal(pkt->meta, expect & ~HDR_SEEN);
	assert_int_equal(pkt->source, VD_SOURCE_NFLOG);
	assert_int_equal(pkt->id, 0);
	FIELD(HDR_SEEN, hw_protocol, 0x0800);
	FIELD(HDR_SEEN, hook, NF_INET_LOCAL_IN);
	FIELD(VD_META_MARK, mark, 0x1234);
	FIELD(VD_META_TIMESTAMP, timestamp_ns, 1700000000ull * 1000000000ull + 250000ull);
	FIELD(VD_META_INDEV, indev, 2);
	FIELD(VD_META_OUTDEV, outdev, 3);
	FIELD(VD_META_PHYSINDEV, physindev, 4);
	FIELD(VD_META_PHYSOUTDEV, physoutdev, 5);
	FIELD(VD_META_HWADDR, hwaddr_len, 6);
	FIELD(VD_META_HWADDR, hwaddr[5], 9);
	FIELD(VD_META_UID, uid, 1000);
	FIELD(VD_META_GID, gid, 100);
	FIELD(VD_META_SEQ, seq, 41);
	FIELD(VD_META_SEQ_GLOBAL, seq_global, 4242);
	FIELD(VD_META_HWTYPE, hw_type, 1);
	FIELD(VD_META_HWHEADER, hw_header_len, 14);
	FIELD(VD_META_CT_INFO, ct_state, VD_CT_NEW);
	FIELD(VD_META_CT_MARK, ct_mark, 0xbeef);
	FIELD(VD_META_VLAN, vlan_proto, 0x8100);
	FIELD(VD_META_VLAN, vlan_tci, 42);
	FIELD(VD_META_L2HDR, l2_header_len, sizeof(vlan_header));
	check_bytes((const uint8_t *)pkt->prefix, expect & VD_META_PREFIX,
		    (const uint8_t *)"drop-in", sizeof("drop-in"));
	check_bytes(pkt->hw_header, expect & VD_META_HWHEADER, mac_header, 14);
	check_bytes(pkt->l2_header, expect & VD_META_L2HDR, vlan_header, sizeof(vlan_header));
	/* The payload decodes whatever else was wrong. */
	assert_int_equal(pkt->caplen, ip_len);
	assert_int_equal(pkt->len, ip_len);
	assert_int_equal(pkt->parse_error, VD_PARSE_OK);
	assert_int_equal(pkt->ip_version, 4);
	assert_int_equal(pkt->sport, 1234);
	assert_int_equal(pkt->dport, 53);
}

static bool points_into(const void *p, const char *buf, size_t size)
{
	return (const char *)p >= buf && (const char *)p < buf + size;
}

static void test_every_attribute_decodes(void **state)
{
	MSG_BUF(buf);
	struct nlmsghdr *nlh = put_header(buf, 5, NFPROTO_IPV4);
	struct vd_packet pkt;

	(void)state;
	put_all(nlh, NO_SHORTEN);
	assert_int_equal(vd_nflog_message_decode(nlh, &pkt), 0);
	check_view(&pkt, ALL_META | HDR_SEEN);
	assert_int_equal(pkt.queue, 5);
	assert_int_equal(pkt.family, NFPROTO_IPV4);
	assert_int_equal(vd_packet_src_v4(&pkt), 0xc6120001); /* 198.18.0.1 */
	/* Zero copy: the view points into the message. */
	assert_true(points_into(pkt.data, buf, sizeof(buf)));
	assert_true(points_into(pkt.prefix, buf, sizeof(buf)));
	assert_true(points_into(pkt.hw_header, buf, sizeof(buf)));
	assert_true(points_into(pkt.l2_header, buf, sizeof(buf)));
}

static void test_absent_attributes_leave_bits_clear(void **state)
{
	MSG_BUF(buf);
	struct nlmsghdr *nlh = put_header(buf, 0xfde8, NFPROTO_BRIDGE);
	struct vd_packet pkt;

	(void)state;
	udp4_payload();
	mnl_attr_put(nlh, NFULA_PAYLOAD, ip_len, ip);
	assert_int_equal(vd_nflog_message_decode(nlh, &pkt), 0);
	check_view(&pkt, 0);
	/* The log group and family come from the nfgenmsg: res_id in network
	 * byte order (not 0xe8fd). */
	assert_int_equal(pkt.queue, 0xfde8);
	assert_int_equal(pkt.family, NFPROTO_BRIDGE);
}

/* One attribute at a time one byte short (a prefix loses its NUL, a nest a
 * leaf's byte): that one is ignored, every other one still decodes. */
static void test_each_short_attribute_is_ignored(void **state)
{
	static const struct { uint16_t type; uint32_t lost; } cases[] = {
		{ NFULA_PACKET_HDR, HDR_SEEN }, { NFULA_MARK, VD_META_MARK },
		{ NFULA_TIMESTAMP, VD_META_TIMESTAMP }, { NFULA_IFINDEX_INDEV, VD_META_INDEV },
		{ NFULA_IFINDEX_OUTDEV, VD_META_OUTDEV },
		{ NFULA_IFINDEX_PHYSINDEV, VD_META_PHYSINDEV },
		{ NFULA_IFINDEX_PHYSOUTDEV, VD_META_PHYSOUTDEV },
		{ NFULA_HWADDR, VD_META_HWADDR }, { NFULA_PREFIX, VD_META_PREFIX },
		{ NFULA_UID, VD_META_UID }, { NFULA_GID, VD_META_GID }, { NFULA_SEQ, VD_META_SEQ },
		{ NFULA_SEQ_GLOBAL, VD_META_SEQ_GLOBAL }, { NFULA_HWTYPE, VD_META_HWTYPE },
		{ NFULA_CT_INFO, VD_META_CT | VD_META_CT_INFO }, { NFULA_CT, VD_META_CT_MARK },
		{ NFULA_VLAN, VD_META_VLAN },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		MSG_BUF(buf);
		struct nlmsghdr *nlh = put_header(buf, 1, NFPROTO_IPV4);
		struct vd_packet pkt;

		print_message("attribute %u one byte short\n", cases[i].type);
		put_all(nlh, cases[i].type);
		assert_int_equal(vd_nflog_message_decode(nlh, &pkt), 0);
		check_view(&pkt, (ALL_META | HDR_SEEN) & ~cases[i].lost);
	}
}

static void test_prefix_needs_its_nul(void **state)
{
	/* "abc" is followed by zero padding, which is not the attribute's. */
	static const struct { const char *bytes; uint16_t len; const char *want; } cases[] = {
		{ "abc", 3, NULL }, { "", 0, NULL }, { "ab\0cd", 5, "ab" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		MSG_BUF(buf);
		struct nlmsghdr *nlh = put_header(buf, 1, NFPROTO_IPV4);
		struct vd_packet pkt;

		mnl_attr_put(nlh, NFULA_PREFIX, cases[i].len, cases[i].bytes);
		mnl_attr_put_u32(nlh, NFULA_MARK, htonl(1));
		assert_int_equal(vd_nflog_message_decode(nlh, &pkt), 0);
		assert_int_equal(pkt.meta, VD_META_MARK | (cases[i].want ? VD_META_PREFIX : 0));
		check_bytes((const uint8_t *)pkt.prefix, cases[i].want != NULL,
			    (const uint8_t *)cases[i].want, 3);
	}
}

/* The lengths the message states never stretch the view past its bytes. */
static void test_link_layer_lengths_are_clamped(void **state)
{
	static const struct { int hwlen; uint16_t want; } cases[] = {
		{ 14, 14 }, { 40, 16 }, { -1, 16 } /* no HWLEN */, { -2, 16 } /* 1-byte HWLEN */,
	};
	/* hw_addrlen 20: more than hw_addr's 8 bytes. */
	struct nfulnl_msg_packet_hw hw = { .hw_addrlen = htons(20), .hw_addr = { 1, 2, 3, 4, 5, 6, 7 } };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		MSG_BUF(buf);
		struct nlmsghdr *nlh = put_header(buf, 1, NFPROTO_IPV4);
		struct vd_packet pkt;

		mnl_attr_put(nlh, NFULA_HWHEADER, sizeof(mac_header), mac_header);
		if (cases[i].hwlen >= 0)
			mnl_attr_put_u16(nlh, NFULA_HWLEN, htons(cases[i].hwlen));
		else if (cases[i].hwlen == -2)
			mnl_attr_put(nlh, NFULA_HWLEN, 1, "\0");
		mnl_attr_put(nlh, NFULA_HWADDR, sizeof(hw), &hw);
		assert_int_equal(vd_nflog_message_decode(nlh, &pkt), 0);
		assert_int_equal(pkt.meta, VD_META_HWHEADER | VD_META_HWADDR);
		assert_int_equal(pkt.hw_header_len, cases[i].want);
		assert_int_equal(pkt.hwaddr_len, 8);
		assert_memory_equal(pkt.hwaddr, hw.hw_addr, 8);
	}
}

/* Not an NFLOG packet, or too short for its nfgenmsg: -1 EINVAL, pkt untouched. */
static void test_not_a_packet_message_is_refused(void **state)
{
	static const struct { uint16_t type; uint32_t len; } cases[] = {
		{ (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET, 0 },
		{ (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG, 0 },
		{ NLMSG_ERROR, 0 },
		/* Below the netlink header itself; no nfgenmsg; 3 of its 4 bytes. */
		{ VD_NFLOG_MSG_PACKET, 1 },
		{ VD_NFLOG_MSG_PACKET, MNL_NLMSG_HDRLEN },
		{ VD_NFLOG_MSG_PACKET, MNL_NLMSG_HDRLEN + 3 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		MSG_BUF(buf);
		struct nlmsghdr *nlh = put_header(buf, 1, NFPROTO_IPV4);
		struct vd_packet pkt = { .mark = 99 };

		put_all(nlh, NO_SHORTEN);
		nlh->nlmsg_type = cases[i].type;
		if (cases[i].len)
			nlh->nlmsg_len = cases[i].len;
		errno = 0;
		assert_int_equal(vd_nflog_message_decode(nlh, &pkt), -1);
		assert_int_equal(errno, EINVAL);
		assert_int_equal(pkt.mark, 99);
	}
}

static void test_no_payload_gives_an_empty_view(void **state)
{
	MSG_BUF(buf);
	struct nlmsghdr *nlh = put_header(buf, 3, NFPROTO_IPV4);
	struct vd_packet pkt;

	(void)state;
	mnl_attr_put_strz(nlh, NFULA_PREFIX, "no-copy");
	mnl_attr_put(nlh, NFULA_PAYLOAD, 0, ""); /* empty counts as none */
	assert_int_equal(vd_nflog_message_decode(nlh, &pkt), 0);
	assert_null(pkt.data);
	assert_int_equal(pkt.caplen, 0);
	assert_int_equal(pkt.len, 0);
	/* The parser did not run: it would have said VD_PARSE_EMPTY. */
	assert_int_equal(pkt.parse_error, VD_PARSE_OK);
	assert_int_equal(pkt.ip_version, 0);
	assert_int_equal(pkt.meta, VD_META_PREFIX);
	assert_string_equal(pkt.prefix, "no-copy");
}

static void test_ipv6_payload_is_parsed(void **state)
{
	MSG_BUF(buf);
	struct nlmsghdr *nlh = put_header(buf, 2, NFPROTO_IPV6);
	struct vt_ipv6 ip6 = { .src = "2001:db8::1", .dst = "2001:db8::2" };
	struct vt_l4 l4 = { .proto = IPPROTO_TCP, .sport = 40000, .dport = 443,
			    .tcp_flags = VD_TCP_SYN };
	struct in6_addr dst;
	struct vd_packet pkt;

	(void)state;
	ip_len = vt_ipv6_build(ip, sizeof(ip), &ip6, &l4);
	mnl_attr_put(nlh, NFULA_PAYLOAD, ip_len, ip);
	assert_int_equal(vd_nflog_message_decode(nlh, &pkt), 0);
	assert_int_equal(pkt.family, NFPROTO_IPV6);
	assert_int_equal(pkt.parse_error, VD_PARSE_OK);
	assert_int_equal(pkt.ip_version, 6);
	assert_int_equal(pkt.l4_proto, IPPROTO_TCP);
	assert_int_equal(pkt.sport, 40000);
	assert_int_equal(pkt.dport, 443);
	assert_int_equal(pkt.tcp_flags, VD_TCP_SYN);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::2", &dst), 1);
	assert_memory_equal(pkt.dst, &dst, 16);
}

static void test_copy_range_cut_reads_as_truncated(void **state)
{
	MSG_BUF(buf);
	struct nlmsghdr *nlh = put_header(buf, 2, NFPROTO_IPV6);
	struct vt_l4 l4 = { .proto = IPPROTO_TCP, .sport = 40000, .dport = 443,
			    .payload_len = 100 };
	struct vd_packet pkt;

	(void)state;
	ip_len = vt_ipv6_build(ip, sizeof(ip), &(struct vt_ipv6){ .src = "2001:db8::1" }, &l4);
	/* What --nflog-range 64 delivers: the IP header still gives the length. */
	mnl_attr_put(nlh, NFULA_PAYLOAD, 64, ip);
	assert_int_equal(vd_nflog_message_decode(nlh, &pkt), 0);
	assert_int_equal(pkt.caplen, 64);
	assert_int_equal(pkt.len, ip_len);
	assert_true(pkt.flags & VD_PACKET_TRUNCATED);
	assert_int_equal(pkt.parse_error, VD_PARSE_OK);
	assert_int_equal(pkt.dport, 443);
}

static void test_ct_and_vlan_nests_decode(void **state)
{
	MSG_BUF(buf);
	struct nlmsghdr *nlh = put_header(buf, 1, NFPROTO_BRIDGE);
	struct nlattr *nest, *tuple;
	struct vd_packet pkt;

	(void)state;
	nest = mnl_attr_nest_start(nlh, NFULA_CT);
	tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(1)); /* a nest deeper: not ours */
	mnl_attr_nest_end(nlh, tuple);
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(8));
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(0xc0ffee));
	mnl_attr_put_u32(nlh, CTA_MAX + 3, htonl(7)); /* unknown: skipped */
	mnl_attr_nest_end(nlh, nest);
	nest = mnl_attr_nest_start(nlh, NFULA_VLAN);
	nest->nla_type |= NLA_F_NESTED; /* as the kernel sends it */
	mnl_attr_put_u16(nlh, NFULA_VLAN_TCI, htons(0x2064));
	mnl_attr_put_u16(nlh, NFULA_VLAN_PROTO, htons(0x88a8));
	mnl_attr_nest_end(nlh, nest);
	assert_int_equal(vd_nflog_message_decode(nlh, &pkt), 0);
	/* No NFULA_CT_INFO: a connmark but no state. */
	assert_int_equal(pkt.meta, VD_META_CT_MARK | VD_META_VLAN);
	assert_int_equal(pkt.ct_mark, 0xc0ffee);
	assert_int_equal(pkt.vlan_proto, 0x88a8);
	assert_int_equal(pkt.vlan_tci, 0x2064);
}

/* A leaf whose length runs past its nest is not read (a VLAN nest left with
 * its protocol alone gives no tag); what follows the nest still is. */
static void test_truncated_nested_attribute_is_ignored(void **state)
{
	MSG_BUF(buf);
	struct nlmsghdr *nlh = put_header(buf, 1, NFPROTO_IPV4);
	struct nlattr *nest, *leaf;
	struct vd_packet pkt;

	(void)state;
	nest = mnl_attr_nest_start(nlh, NFULA_CT);
	leaf = mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(0xbeef));
	leaf->nla_len += 8;
	mnl_attr_nest_end(nlh, nest);
	nest = mnl_attr_nest_start(nlh, NFULA_VLAN);
	mnl_attr_put_u16(nlh, NFULA_VLAN_PROTO, htons(0x8100));
	leaf = mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put_u16(nlh, NFULA_VLAN_TCI, htons(42));
	leaf->nla_len += 4;
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_put_u32(nlh, NFULA_MARK, htonl(0x77));
	mnl_attr_put(nlh, 0x7fff, 3, "xyz"); /* unknown type: skipped */
	assert_int_equal(vd_nflog_message_decode(nlh, &pkt), 0);
	assert_int_equal(pkt.meta, VD_META_MARK);
	assert_int_equal(pkt.mark, 0x77);
	assert_int_equal(pkt.ct_mark, 0);
	assert_int_equal(pkt.vlan_proto, 0);
}

/* Every prefix of the full message decodes or is refused without a read
 * past its end (ASan sees it: each copy is allocated to the aligned end). */
static void test_every_truncated_length_is_safe(void **state)
{
	MSG_BUF(buf);
	struct nlmsghdr *nlh = put_header(buf, 1, NFPROTO_IPV4);
	struct vd_packet pkt;

	(void)state;
	put_all(nlh, NO_SHORTEN);
	for (uint32_t len = 0; len <= nlh->nlmsg_len; len++) {
		struct nlmsghdr *copy = calloc(1, MNL_ALIGN(len > sizeof(*nlh) ? len : sizeof(*nlh)));

		assert_non_null(copy);
		memcpy(copy, nlh, len);
		copy->nlmsg_len = len;
		copy->nlmsg_type = VD_NFLOG_MSG_PACKET;
		assert_int_equal(vd_nflog_message_decode(copy, &pkt),
				 len < MNL_NLMSG_HDRLEN + sizeof(struct nfgenmsg) ? -1 : 0);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_attribute_decodes),
		cmocka_unit_test(test_absent_attributes_leave_bits_clear),
		cmocka_unit_test(test_each_short_attribute_is_ignored),
		cmocka_unit_test(test_prefix_needs_its_nul),
		cmocka_unit_test(test_link_layer_lengths_are_clamped),
		cmocka_unit_test(test_not_a_packet_message_is_refused),
		cmocka_unit_test(test_no_payload_gives_an_empty_view),
		cmocka_unit_test(test_ipv6_payload_is_parsed),
		cmocka_unit_test(test_copy_range_cut_reads_as_truncated),
		cmocka_unit_test(test_ct_and_vlan_nests_decode),
		cmocka_unit_test(test_truncated_nested_attribute_is_ignored),
		cmocka_unit_test(test_every_truncated_length_is_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
