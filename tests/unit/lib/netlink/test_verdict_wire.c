/* test_verdict_wire.c - vd_wire_verdict_from: every verdict kind with and
 * without the connection flag, without and with a kernel mark field (two
 * placements), with and without the user's own mark: the NF_* code and the
 * mark the kernel gets (kernel_mark.h codes in the field, the user's bits
 * around it kept). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h> /* before the linux/ headers: glibc owns struct in_addr */
#include <linux/netfilter.h>

#include <verdict/kernel_mark.h>

#include "verdict_batch.h"

enum { INVALID = -1 };

struct row {
	const char *what;
	struct vd_verdict v;
	int without;    /* NF_* code with no field (mask 0), or INVALID */
	int with;       /* NF_* code with a field, or INVALID */
	unsigned code;  /* the field's code with a field (0: none) */
};

static struct vd_verdict conn(struct vd_verdict v)
{
	return vd_verdict_connection(v);
}

/* The whole table of kernel.md, written out. */
static const struct row *rows(size_t *n)
{
	static struct row r[16];
	size_t i = 0;

	r[i++] = (struct row){ "accept", vd_verdict_accept(), NF_ACCEPT, NF_ACCEPT, 0 };
	r[i++] = (struct row){ "accept+conn", conn(vd_verdict_accept()), NF_ACCEPT, NF_REPEAT, 8 | 1 };
	r[i++] = (struct row){ "drop", vd_verdict_drop(), NF_DROP, NF_DROP, 0 };
	r[i++] = (struct row){ "drop+conn", conn(vd_verdict_drop()), NF_DROP, NF_REPEAT, 8 | 2 };
	r[i++] = (struct row){ "reject", vd_verdict_reject(VD_REJECT_DEFAULT), NF_DROP, NF_REPEAT, 4 };
	r[i++] = (struct row){ "reject reset", vd_verdict_reject(VD_REJECT_TCP_RESET), NF_DROP,
			       NF_REPEAT, 5 };
	r[i++] = (struct row){ "reject admin", vd_verdict_reject(VD_REJECT_ADMIN_PROHIBITED),
			       NF_DROP, NF_REPEAT, 6 };
	r[i++] = (struct row){ "reject host", vd_verdict_reject(VD_REJECT_HOST_UNREACHABLE),
			       NF_DROP, NF_REPEAT, 7 };
	r[i++] = (struct row){ "reject reset+conn", conn(vd_verdict_reject(VD_REJECT_TCP_RESET)),
			       NF_DROP, NF_REPEAT, 8 | 5 };
	r[i++] = (struct row){ "reject bad answer", { .kind = VD_VERDICT_REJECT, .queue = 4 },
			       INVALID, INVALID, 0 };
	r[i++] = (struct row){ "repeat", vd_verdict_repeat(), NF_REPEAT, NF_REPEAT, 3 };
	r[i++] = (struct row){ "repeat+conn", conn(vd_verdict_repeat()), INVALID, INVALID, 0 };
	r[i++] = (struct row){ "queue", vd_verdict_queue(5, false), (5 << 16) | NF_QUEUE,
			       (5 << 16) | NF_QUEUE, 0 };
	r[i++] = (struct row){ "queue bypass", vd_verdict_queue(5, true),
			       (5 << 16) | NF_QUEUE | NF_VERDICT_FLAG_QUEUE_BYPASS,
			       (5 << 16) | NF_QUEUE | NF_VERDICT_FLAG_QUEUE_BYPASS, 0 };
	r[i++] = (struct row){ "queue+conn", conn(vd_verdict_queue(5, false)), INVALID, INVALID, 0 };
	r[i++] = (struct row){ "pending", vd_verdict_pending(), INVALID, INVALID, 0 };
	*n = i;
	return r;
}

/* One row under one field placement (shift: where the field starts; -1:
 * no field), with or without the user's mark 0x5/0xff, on a packet whose
 * mark has bits everywhere (some in the field too). */
static void check_row(const struct row *r, int shift, bool user_mark)
{
	uint32_t kmask = shift < 0 ? 0 : 0xfu << shift, pkt = 0xa5a5a5a5u;
	struct vd_verdict v = user_mark ? vd_verdict_with_mark(r->v, 0x5, 0xff) : r->v;
	int expect = shift < 0 ? r->without : r->with;
	unsigned code = shift < 0 ? 0 : r->code;
	struct vd_wire_verdict w;
	uint32_t mask, want;

	print_message("%s, field %08x, user mark %d\n", r->what, kmask, user_mark);
	if (expect == INVALID) {
		assert_false(vd_wire_verdict_from(v, pkt, kmask, &w));
		return;
	}
	assert_true(vd_wire_verdict_from(v, pkt, kmask, &w));
	assert_int_equal(w.code, (uint32_t)expect);
	mask = (user_mark ? 0xffu : 0) | (code ? kmask : 0);
	/* The user's value outside the field, the code inside it, the
	 * packet's own bits elsewhere. */
	want = (pkt & ~mask) | (0x5u & (user_mark ? 0xffu : 0) & ~(code ? kmask : 0)) |
	       (code ? (uint32_t)code << shift : 0);
	assert_int_equal(w.has_mark, mask != 0);
	assert_int_equal(w.mark, mask ? want : 0);
}

static void test_every_kind_flag_and_field(void **state)
{
	const int shifts[] = { -1, 24, 4 }; /* none, the default field, one under the user's mark */
	size_t n;
	const struct row *r = rows(&n);

	(void)state;
	assert_int_equal(0xfu << 24, VD_KMARK_DEFAULT_MASK);
	for (size_t i = 0; i < n; i++)
		for (size_t s = 0; s < sizeof(shifts) / sizeof(shifts[0]); s++) {
			check_row(&r[i], shifts[s], false);
			check_row(&r[i], shifts[s], true);
		}
}

/* The field written over the user's mark where they meet: a whole mark
 * (mask 0xffffffff) keeps its bits outside the field. */
static void test_whole_mark_keeps_its_bits_outside_the_field(void **state)
{
	struct vd_wire_verdict w;
	struct vd_verdict v = vd_verdict_with_mark(conn(vd_verdict_accept()), 0x1234, UINT32_MAX);

	(void)state;
	assert_true(vd_wire_verdict_from(v, 0xffffffffu, VD_KMARK_DEFAULT_MASK, &w));
	assert_int_equal(w.code, NF_REPEAT);
	assert_int_equal(w.mark, 0x09001234u);
	assert_true(vd_wire_verdict_from(vd_verdict_reject(VD_REJECT_TCP_RESET), 0x00000007u,
					 VD_KMARK_DEFAULT_MASK, &w));
	assert_int_equal(w.mark, 0x05000007u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind_flag_and_field),
		cmocka_unit_test(test_whole_mark_keeps_its_bits_outside_the_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
