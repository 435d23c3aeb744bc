/* queue_answer_fixture.c - see queue_answer_fixture.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "queue_answer_fixture.h"

/* IPv4 UDP 198.18.0.1:1234 -> 198.18.0.2:53, 4 bytes of payload; the
 * checksums are filled in by setup. */
uint8_t udp4[32] = {
	0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
	0x04, 0xd2, 0, 53, 0, 12, 0, 0, 'a', 'b', 'c', 'd',
};

static struct vd_verdict accept_cb(const struct vd_packet *pkt, void *user)
{
	(void)pkt;
	(void)user;
	return vd_verdict_accept();
}

struct vd_verdict repeat_fallback(void *user)
{
	(void)user;
	return vd_verdict_repeat();
}

void apply(struct fixture *f)
{
	vt_wire_read(&f->vb, f->wire);
	for (int i = 0; i < f->wire->n; i++) {
		const struct vt_wire_msg *m = &f->wire->msgs[i];
		uint32_t id = m->v.id;

		assert_true(id < 64);
		if (m->v.type == NFQNL_MSG_VERDICT_BATCH) {
			assert_null(m->payload);
			for (uint32_t j = 0; j <= id; j++)
				if (f->verdict_of[j] < 0)
					f->verdict_of[j] = m->v.code;
		} else {
			assert_true(f->verdict_of[id] < 0);
			f->verdict_of[id] = m->v.code;
			if (m->payload) {
				assert_true(m->payload_len <= sizeof(f->payload_of[id]));
				memcpy(f->payload_of[id], m->payload, m->payload_len);
				f->payload_len_of[id] = m->payload_len;
			}
		}
	}
	vd_verdict_batch_reset(&f->vb);
}

/* A full batch is sent as the queue sends it: applied, then emptied. */
static void count_flush(void *owner)
{
	struct fixture *f = owner;

	f->flushes++;
	apply(f);
}

static struct vd_verdict edit_cb(struct vd_packet_edit *edit, void *user)
{
	struct fixture *f = user;
	static const uint8_t more[20] = "abcd0123456789abcdef";

	f->seen_edit = edit;
	f->seen_buf = edit->buf;
	f->seen_capacity = edit->capacity;
	switch (f->plan[edit->pkt->id]) {
	case PLAN_NONE:
		return vd_verdict_accept();
	case PLAN_TTL:
		assert_int_equal(vd_packet_edit_set_ttl(edit, 7), 0);
		return vd_verdict_accept();
	case PLAN_TTL_DROP:
		assert_int_equal(vd_packet_edit_set_ttl(edit, 7), 0);
		return vd_verdict_drop();
	case PLAN_TTL_DISCARD:
		assert_int_equal(vd_packet_edit_set_ttl(edit, 7), 0);
		vd_packet_edit_discard(edit);
		return vd_verdict_accept();
	case PLAN_GROW:
		/* "abcd" becomes 20 bytes: 16 more, into the slot's tail room. */
		assert_int_equal(vd_packet_edit_replace_payload(edit, 0, 4, more, sizeof(more)), 0);
		return vd_verdict_repeat();
	case PLAN_TTL_BYPASS:
		assert_int_equal(vd_packet_edit_set_ttl(edit, 7), 0);
		return vd_verdict_connection(vd_verdict_accept());
	case PLAN_DELAYED_REJECT:
		return vd_verdict_delay(vd_verdict_reject(VD_REJECT_TCP_RESET), 1000000);
	case PLAN_GROW_BIG: {
		uint8_t big[100];

		memset(big, 'x', sizeof(big));
		assert_int_equal(vd_packet_edit_replace_payload(edit, 0, 4, big, sizeof(big)), 0);
		return vd_verdict_repeat();
	}
	}
	return vd_verdict_drop();
}

int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->wire = malloc(sizeof(*f->wire));
	assert_non_null(f->wire);
	udp4[10] = udp4[11] = 0;
	udp4[10] = (uint8_t)(vt_ref_ipv4_checksum(udp4) >> 8);
	udp4[11] = (uint8_t)vt_ref_ipv4_checksum(udp4);
	udp4[26] = udp4[27] = 0;
	vt_l4_checksum_fill(udp4, sizeof(udp4));
	f->cfg = (struct vd_queue_config){ .queue_num = 4, .callback = accept_cb };
	assert_true(vd_verdict_batch_bufsize(MAXP) <= sizeof(f->vb_buf));
	assert_int_equal(vd_verdict_batch_init(&f->vb, 4, f->vb_buf, MAXP), 0);
	f->answer = (struct vd_queue_answer){ .cfg = &f->cfg, .vb = &f->vb, .delta = &f->delta,
					      .flush = count_flush, .owner = f };
	for (size_t i = 0; i < 64; i++)
		f->verdict_of[i] = -1;
	*state = f;
	return 0;
}

int teardown(void **state)
{
	struct fixture *f = *state;

	vd_verdict_batch_free(&f->vb);
	free(f->wire);
	free(f);
	return 0;
}

/* A packet message as the kernel sends it: header attribute first. */
size_t put_packet(uint8_t *buf, uint32_t id, bool with_payload)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	struct nfqnl_msg_packet_hdr ph = { .packet_id = htonl(id), .hw_protocol = htons(0x0800),
					   .hook = 3 };

	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->res_id = htons(4);
	mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
	if (with_payload)
		mnl_attr_put(nlh, NFQA_PAYLOAD, sizeof(udp4), udp4);
	return nlh->nlmsg_len;
}

/* The packet as received into the next slot. */
void feed(struct fixture *f, uint32_t id, size_t cut)
{
	uint8_t *slot = f->slots[f->nfed++ % NSLOTS];
	size_t len = put_packet(slot, id, true);

	vd_queue_answer_datagram(&f->answer, slot, cut ? cut : len, ROOM, cut != 0);
}

void use_edit_cb(struct fixture *f)
{
	f->cfg.callback = NULL; /* edit_callback is used alone */
	f->cfg.edit_callback = edit_cb;
	f->cfg.user = f;
}

/* Where put_packet's packet starts in its slot. */
size_t packet_offset(void)
{
	return NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)) + NLA_HDRLEN +
	       NLA_ALIGN(sizeof(struct nfqnl_msg_packet_hdr)) + NLA_HDRLEN;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The IPv4 and UDP checksums and lengths of a packet sent back are right. */
void assert_packet_valid(const uint8_t *p, uint32_t len)
{
	assert_int_equal(be16(p + 2), len);
	assert_int_equal(be16(p + 10), vt_ref_ipv4_checksum(p));
	assert_int_equal(be16(p + 24), len - 20);
	assert_int_equal(be16(p + 26), vt_ref_l4_checksum(p, len));
}
