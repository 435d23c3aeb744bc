/* verdict_wire.c - a verdict batch read back as the kernel receives it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "verdict_wire.h"

static void read_payload(const struct nlmsghdr *nlh, struct vt_wire_msg *m)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFQA_PAYLOAD)
			continue;
		m->payload = mnl_attr_get_payload(a);
		m->payload_len = mnl_attr_get_payload_len(a);
		/* The kernel's netlink walk skips the padding: it must be zero
		 * and lie within the message. */
		for (uint32_t i = m->payload_len; i < MNL_ALIGN(m->payload_len); i++)
			assert_int_equal(m->payload[i], 0);
		assert_true((const uint8_t *)a + MNL_ALIGN(a->nla_len) <=
			    (const uint8_t *)nlh + nlh->nlmsg_len);
	}
}

int vt_wire_read(struct vd_verdict_batch *vb, struct vt_wire *w)
{
	const struct iovec *iov;
	size_t total = vd_verdict_batch_finish(vb, &iov, &w->niov);
	const struct nlmsghdr *nlh;
	int remaining;

	w->len = 0;
	assert_true(w->niov <= VD_VERDICT_BATCH_MAX_IOV);
	for (unsigned i = 0; i < w->niov; i++) {
		assert_true(iov[i].iov_len > 0);
		assert_true(w->len + iov[i].iov_len <= sizeof(w->flat));
		memcpy(w->flat + w->len, iov[i].iov_base, iov[i].iov_len);
		w->len += iov[i].iov_len;
	}
	assert_int_equal(w->len, total);
	nlh = (const struct nlmsghdr *)w->flat;
	remaining = (int)w->len;
	w->n = 0;
	while (mnl_nlmsg_ok(nlh, remaining)) {
		struct vt_wire_msg *m = &w->msgs[w->n++];

		assert_true(w->n <= (int)(sizeof(w->msgs) / sizeof(w->msgs[0])));
		*m = (struct vt_wire_msg){ .nlmsg_len = nlh->nlmsg_len };
		assert_int_equal(nlh->nlmsg_len % 4, 0);
		vt_verdict_msg_read(nlh, &m->v);
		read_payload(nlh, m);
		nlh = mnl_nlmsg_next(nlh, &remaining);
	}
	assert_int_equal(remaining, 0); /* every byte belongs to a message */
	return w->n;
}
