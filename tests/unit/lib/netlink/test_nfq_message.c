/* test_nfq_message.c - NFQUEUE packet messages built here decode into views. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <endian.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "nfq_message.h"

/* IPv4 UDP 198.18.0.1:1234 -> 198.18.0.2:53, 4 bytes of payload. */
static const uint8_t udp4[] = {
	0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
	0x04, 0xd2, 0, 53, 0, 12, 0, 0, 'a', 'b', 'c', 'd',
};

static struct nlmsghdr *put_header(char *buf, uint16_t queue)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(queue);
	return nlh;
}

static void put_packet_hdr(struct nlmsghdr *nlh, uint32_t id)
{
	struct nfqnl_msg_packet_hdr ph = { .packet_id = htonl(id),
					   .hw_protocol = htons(0x0800), .hook = 3 };
	mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
}

static void test_every_attribute_decodes(void **state)
{
	char buf[1024];
	struct nlmsghdr *nlh = put_header(buf, 3);
	struct nfqnl_msg_packet_timestamp ts = { .sec = htobe64(1700000000), .usec = htobe64(250) };
	struct nfqnl_msg_packet_hw hw = { .hw_addrlen = htons(6), .hw_addr = { 2, 0, 0, 0, 0, 9 } };
	struct nlattr *nest;
	struct vd_packet pkt;

	(void)state;
	put_packet_hdr(nlh, 77);
	mnl_attr_put_u32(nlh, NFQA_MARK, htonl(0x1234));
	mnl_attr_put(nlh, NFQA_TIMESTAMP, sizeof(ts), &ts);
	mnl_attr_put_u32(nlh, NFQA_IFINDEX_INDEV, htonl(2));
	mnl_attr_put_u32(nlh, NFQA_IFINDEX_OUTDEV, htonl(3));
	mnl_attr_put_u32(nlh, NFQA_IFINDEX_PHYSINDEV, htonl(4));
	mnl_attr_put_u32(nlh, NFQA_IFINDEX_PHYSOUTDEV, htonl(5));
	mnl_attr_put(nlh, NFQA_HWADDR, sizeof(hw), &hw);
	nest = mnl_attr_nest_start(nlh, NFQA_CT);
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(8));
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(0xbeef));
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_put_u32(nlh, NFQA_CT_INFO, htonl(2));
	mnl_attr_put_u32(nlh, NFQA_CAP_LEN, htonl(1500));
	mnl_attr_put_u32(nlh, NFQA_SKB_INFO, htonl(NFQA_SKB_GSO));
	mnl_attr_put_u32(nlh, NFQA_UID, htonl(1000));
	mnl_attr_put_u32(nlh, NFQA_GID, htonl(100));
	mnl_attr_put_strz(nlh, NFQA_SECCTX, "system_u:object_r:x_t");
	mnl_attr_put(nlh, NFQA_PAYLOAD, sizeof(udp4), udp4);

	assert_int_equal(vd_nfq_message_decode(nlh, &pkt), 0);
	assert_int_equal(pkt.id, 77);
	assert_int_equal(pkt.queue, 3);
	assert_int_equal(pkt.hw_protocol, 0x0800);
	assert_int_equal(pkt.hook, 3);
	assert_int_equal(pkt.family, AF_INET);
	assert_int_equal(pkt.mark, 0x1234);
	assert_int_equal(pkt.timestamp_ns, 1700000000ull * 1000000000ull + 250000ull);
	assert_int_equal(pkt.indev, 2);
	assert_int_equal(pkt.outdev, 3);
	assert_int_equal(pkt.physindev, 4);
	assert_int_equal(pkt.physoutdev, 5);
	assert_int_equal(pkt.hwaddr_len, 6);
	assert_int_equal(pkt.hwaddr[5], 9);
	assert_int_equal(pkt.ct_state, VD_CT_NEW);
	assert_int_equal(pkt.ct_mark, 0xbeef);
	assert_int_equal(pkt.uid, 1000);
	assert_int_equal(pkt.gid, 100);
	assert_int_equal(pkt.secctx_len, strlen("system_u:object_r:x_t"));
	assert_memory_equal(pkt.secctx, "system_u:object_r:x_t", pkt.secctx_len);
	assert_true(pkt.flags & VD_PACKET_GSO);
	assert_int_equal(pkt.meta, VD_META_MARK | VD_META_TIMESTAMP | VD_META_INDEV |
				   VD_META_OUTDEV | VD_META_PHYSINDEV | VD_META_PHYSOUTDEV |
				   VD_META_HWADDR | VD_META_UID | VD_META_GID | VD_META_CT |
				   VD_META_CT_MARK | VD_META_SECCTX | VD_META_SKB_INFO);
	/* The payload is viewed where it lies, not copied. */
	assert_ptr_equal(pkt.data, (const uint8_t *)mnl_attr_get_payload(
					   (const struct nlattr *)((const char *)pkt.data - 4)));
	assert_int_equal(pkt.caplen, sizeof(udp4));
	assert_int_equal(pkt.len, 1500);
	assert_true(pkt.flags & VD_PACKET_TRUNCATED);
	assert_int_equal(pkt.parse_error, VD_PARSE_OK);
	assert_int_equal(pkt.sport, 1234);
	assert_int_equal(pkt.dport, 53);
}

static void test_absent_attributes_leave_meta_clear(void **state)
{
	char buf[512];
	struct nlmsghdr *nlh = put_header(buf, 0);
	struct vd_packet pkt;

	(void)state;
	put_packet_hdr(nlh, 1);
	mnl_attr_put(nlh, NFQA_PAYLOAD, sizeof(udp4), udp4);
	assert_int_equal(vd_nfq_message_decode(nlh, &pkt), 0);
	assert_int_equal(pkt.meta, 0);
	assert_int_equal(pkt.mark, 0);
	assert_int_equal(pkt.len, sizeof(udp4));
	assert_false(pkt.flags & VD_PACKET_TRUNCATED);
	assert_int_equal(pkt.dport, 53);
}

static void test_no_payload_still_gives_a_view(void **state)
{
	char buf[512];
	struct nlmsghdr *nlh = put_header(buf, 0);
	struct vd_packet pkt;

	(void)state;
	put_packet_hdr(nlh, 9);
	assert_int_equal(vd_nfq_message_decode(nlh, &pkt), 0);
	assert_int_equal(pkt.id, 9);
	assert_int_equal(pkt.caplen, 0);
	assert_int_equal(pkt.parse_error, VD_PARSE_EMPTY);
}

static void test_missing_or_short_packet_header_is_refused(void **state)
{
	char buf[512];
	struct nlmsghdr *nlh = put_header(buf, 0);
	struct vd_packet pkt;
	uint32_t short_hdr = 0;

	(void)state;
	mnl_attr_put(nlh, NFQA_PAYLOAD, sizeof(udp4), udp4);
	assert_int_equal(vd_nfq_message_decode(nlh, &pkt), -1);

	nlh = put_header(buf, 0);
	mnl_attr_put(nlh, NFQA_PACKET_HDR, 3, &short_hdr);
	assert_int_equal(vd_nfq_message_decode(nlh, &pkt), -1);
}

static void test_message_shorter_than_nfgenmsg_is_refused(void **state)
{
	char buf[64];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct vd_packet pkt;

	(void)state;
	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
	assert_int_equal(vd_nfq_message_decode(nlh, &pkt), -1);
}

/* A too-short attribute is left out; the ones after it still count. */
static void test_malformed_mark_is_skipped(void **state)
{
	char buf[512];
	struct nlmsghdr *nlh = put_header(buf, 0);
	struct vd_packet pkt;
	uint16_t two = 7;

	(void)state;
	put_packet_hdr(nlh, 5);
	mnl_attr_put(nlh, NFQA_MARK, sizeof(two), &two);
	mnl_attr_put_u32(nlh, NFQA_UID, htonl(42));
	mnl_attr_put(nlh, NFQA_PAYLOAD, sizeof(udp4), udp4);
	assert_int_equal(vd_nfq_message_decode(nlh, &pkt), 0);
	assert_int_equal(pkt.id, 5);
	assert_false(pkt.meta & VD_META_MARK);
	assert_int_equal(pkt.meta, VD_META_UID);
	assert_int_equal(pkt.uid, 42);
	assert_int_equal(pkt.dport, 53);
}

/* Decoding must not read past the message even when attributes claim more. */
static void test_every_truncated_length_is_safe(void **state)
{
	char buf[512];
	struct nlmsghdr *nlh = put_header(buf, 0);
	struct vd_packet pkt;

	(void)state;
	put_packet_hdr(nlh, 5);
	mnl_attr_put_u32(nlh, NFQA_MARK, htonl(1));
	mnl_attr_put(nlh, NFQA_PAYLOAD, sizeof(udp4), udp4);
	for (uint32_t len = sizeof(struct nlmsghdr); len <= nlh->nlmsg_len; len++) {
		/* libmnl walks up to the 4-byte aligned end, as a receive buffer
		 * always has it; allocate exactly that so ASan sees any more. */
		struct nlmsghdr *copy = calloc(1, MNL_ALIGN(len));

		assert_non_null(copy);
		memcpy(copy, nlh, len);
		copy->nlmsg_len = len;
		(void)vd_nfq_message_decode(copy, &pkt);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_attribute_decodes),
		cmocka_unit_test(test_absent_attributes_leave_meta_clear),
		cmocka_unit_test(test_no_payload_still_gives_a_view),
		cmocka_unit_test(test_missing_or_short_packet_header_is_refused),
		cmocka_unit_test(test_message_shorter_than_nfgenmsg_is_refused),
		cmocka_unit_test(test_malformed_mark_is_skipped),
		cmocka_unit_test(test_every_truncated_length_is_safe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
