/* test_verdict.c - verdict constructors, names and parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <verdict/libverdict.h>

static void test_constructors(void **state)
{
	struct vd_verdict q = vd_verdict_queue(9, true);
	struct vd_verdict m = vd_verdict_with_mark(vd_verdict_drop(), 0x5, 0xf);

	(void)state;
	assert_int_equal(vd_verdict_accept().kind, VD_VERDICT_ACCEPT);
	assert_int_equal(q.kind, VD_VERDICT_QUEUE);
	assert_int_equal(q.queue, 9);
	assert_true(q.flags & VD_VERDICT_F_BYPASS);
	assert_int_equal(m.kind, VD_VERDICT_DROP);
	assert_true(m.flags & VD_VERDICT_F_MARK);
	assert_int_equal(m.mark, 5);
	assert_int_equal(m.mark_mask, 0xf);
	assert_true(vd_verdict_equal(vd_verdict_accept(), vd_verdict_accept()));
	assert_int_equal(vd_verdict_reject(VD_REJECT_TCP_RESET).kind, VD_VERDICT_REJECT);
	assert_int_equal(vd_verdict_reject(VD_REJECT_TCP_RESET).queue, VD_REJECT_TCP_RESET);
	assert_int_equal(vd_verdict_connection(m).flags, VD_VERDICT_F_MARK | VD_VERDICT_F_CONNECTION);
	assert_int_equal(vd_verdict_connection(m).mark, 5);
	/* The struct stays 16 bytes: hook ABI 2's calling convention. */
	assert_int_equal(sizeof(struct vd_verdict), 16);
	assert_false(vd_verdict_equal(vd_verdict_accept(), m));
}

static void test_names_round_trip(void **state)
{
	struct vd_verdict v;

	(void)state;
	assert_string_equal(vd_verdict_kind_name(VD_VERDICT_ACCEPT), "accept");
	assert_string_equal(vd_verdict_kind_name(VD_VERDICT_DROP), "drop");
	assert_string_equal(vd_verdict_kind_name(VD_VERDICT_QUEUE), "queue");
	assert_string_equal(vd_verdict_kind_name(VD_VERDICT_REPEAT), "repeat");
	assert_string_equal(vd_verdict_kind_name(VD_VERDICT_REJECT), "reject");
	assert_string_equal(vd_verdict_kind_name(200), "unknown");
	assert_int_equal(vd_verdict_parse("reject", &v), 0);
	assert_true(vd_verdict_equal(v, vd_verdict_reject(VD_REJECT_DEFAULT)));
	assert_int_equal(vd_verdict_parse("drop", &v), 0);
	assert_int_equal(v.kind, VD_VERDICT_DROP);
	assert_int_equal(vd_verdict_parse("repeat", &v), 0);
	assert_int_equal(v.kind, VD_VERDICT_REPEAT);
	assert_int_equal(vd_verdict_parse("ACCEPT", &v), -1);
	assert_int_equal(vd_verdict_parse(NULL, &v), -1);
	assert_string_equal(vd_version(), VD_VERSION_STRING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constructors),
		cmocka_unit_test(test_names_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
