/* test_lua_rewrite.c - writing header fields from a Lua hook
 * (engine/lib/hooks/lua_rewrite.c): every assignable field on IPv4 and IPv6,
 * TCP, UDP and ICMP(v6), checksums checked against the reference of
 * helpers.c, read-after-write, the refusals and bad values, and when the
 * edits are discarded (drop, hook errors, a read-only packet). Payload
 * writes are in test_lua_rewrite_payload.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "lua_fixture.h"
#include "rewrite_fixture.h"
#include "rules_fixture.h"

enum field { TTL, DSCP, ECN, SRC, DST, SPORT, DPORT, FLAGS_TEXT, FLAGS_NUMBER, NFIELDS };

static const char *const field_names[NFIELDS] = {
	"ttl", "dscp", "ecn", "src", "dst", "sport", "dport", "tcp_flags", "tcp_flags",
};

#define SRC4 "198.18.7.9"
#define DST4 "198.19.200.1"
#define SRC6 "2001:db8:1::77"
#define DST6 "2001:db8:ffff::9:1"

/* The statement that writes the field and the checks that read it back. */
static void field_body(enum field fld, int v, char *body, size_t size)
{
	const char *src = v == 4 ? SRC4 : SRC6, *dst = v == 4 ? DST4 : DST6;

	switch (fld) {
	case TTL:
		snprintf(body, size, "pkt.ttl = 7 assert(pkt.ttl == 7, 'ttl')");
		break;
	case DSCP:
		snprintf(body, size, "pkt.ecn = 2 pkt.dscp = 46\n"
			 "assert(pkt.dscp == 46 and pkt.ecn == 2, 'dscp')");
		break;
	case ECN:
		snprintf(body, size, "pkt.dscp = 10 pkt.ecn = 3\n"
			 "assert(pkt.ecn == 3 and pkt.dscp == 10, 'ecn')");
		break;
	case SRC:
		snprintf(body, size, "pkt.src = '%s' assert(pkt.src == '%s', pkt.src)", src, src);
		break;
	case DST:
		snprintf(body, size, "pkt.dst = '%s' assert(pkt.dst == '%s', pkt.dst)", dst, dst);
		break;
	case SPORT:
		snprintf(body, size, "pkt.sport = 4321 assert(pkt.sport == 4321, 'sport')");
		break;
	case DPORT:
		snprintf(body, size, "pkt.dport = 65535 assert(pkt.dport == 65535, 'dport')");
		break;
	case FLAGS_TEXT: /* the fixture's packets carry ACK */
		snprintf(body, size, "pkt.tcp_flags = 'syn,psh,!ack'\n"
			 "assert(pkt.tcp_flags == 0x0a, 'flags ' .. pkt.tcp_flags)");
		break;
	default:
		snprintf(body, size, "pkt.tcp_flags = 0x11 assert(pkt.tcp_flags == 0x11, 'flags')");
		break;
	}
	snprintf(body + strlen(body), size - strlen(body), "\nreturn 'accept'");
}

static void address_is(const uint8_t *at, int v, const char *want)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(v == 4 ? AF_INET : AF_INET6, at, text, sizeof(text));
	assert_string_equal(text, want);
}

/* The bytes say what the hook wrote: a fresh parse of them, and the
 * traffic class read from the header. */
static void field_written(const struct vt_edit_fixture *f, enum field fld, int v)
{
	struct vd_packet fresh;
	const uint8_t *p = f->buf;
	uint8_t tc = v == 4 ? p[1] : (uint8_t)((p[0] & 0x0f) << 4 | p[1] >> 4);

	assert_int_equal(vt_parse(&fresh, p, f->edit.len, f->edit.len), VD_PARSE_OK);
	switch (fld) {
	case TTL: assert_int_equal(fresh.ttl, 7); break;
	case DSCP: assert_int_equal(tc, 46 << 2 | 2); break;
	case ECN: assert_int_equal(tc, 10 << 2 | 3); break;
	case SRC: address_is(fresh.src, v, v == 4 ? SRC4 : SRC6); break;
	case DST: address_is(fresh.dst, v, v == 4 ? DST4 : DST6); break;
	case SPORT: assert_int_equal(fresh.sport, 4321); break;
	case DPORT: assert_int_equal(fresh.dport, 65535); break;
	case FLAGS_TEXT: assert_int_equal(fresh.tcp_flags, VD_TCP_SYN | VD_TCP_PSH); break;
	default: assert_int_equal(fresh.tcp_flags, VD_TCP_FIN | VD_TCP_ACK); break;
	}
}

static bool field_exists(enum field fld, uint8_t proto)
{
	if (fld == SPORT || fld == DPORT)
		return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
	if (fld == FLAGS_TEXT || fld == FLAGS_NUMBER)
		return proto == IPPROTO_TCP;
	return true;
}

/* Every field, alone, on every protocol of both IP versions: written with
 * every checksum right where the packet has it, refused naming the field
 * where it has not. */
static void test_every_field_every_protocol(void **state)
{
	struct vt_edit_fixture f;
	char body[512], want[64];

	(void)state;
	for (int v = 4; v <= 6; v += 2) {
		for (unsigned i = 0; i < VT_REWRITE_PROTOS; i++) {
			uint8_t proto = vt_rewrite_proto(v, i);

			for (int fld = 0; fld < NFIELDS; fld++) {
				vt_edit_make_simple(&f, v, proto, 11);
				field_body((enum field)fld, v, body, sizeof(body));
				if (!field_exists((enum field)fld, proto)) {
					snprintf(want, sizeof(want), "pkt.%s: packet has no such field",
						 field_names[fld]);
					vt_rewrite_fails(&f, body, VD_EDIT_NO_FIELD, want);
					continue;
				}
				vt_rewrite_ok(&f, body);
				assert_true(vd_packet_edit_pending(&f.edit));
				vt_edit_assert_valid(&f, false);
				field_written(&f, (enum field)fld, v);
			}
		}
	}
}

/* All at once, through a lazily prepared edit (what rule tables pass). */
static void test_all_fields_together_lazily(void **state)
{
	struct vt_edit_fixture f;

	(void)state;
	vt_edit_make_simple(&f, 6, IPPROTO_TCP, 20);
	vd_packet_edit_prepare(&f.edit, &f.pkt, f.buf, CAPACITY, 0);
	vt_rewrite_ok(&f, "pkt.ttl = 1 pkt.dscp = 63 pkt.ecn = 0 pkt.src = '" SRC6 "'\n"
			  "pkt.dst = '" DST6 "' pkt.sport = 1 pkt.dport = 2\n"
			  "pkt.tcp_flags = 'rst,!ack'\n"
			  "assert(pkt.ttl == 1 and pkt.sport == 1 and pkt.dport == 2)\n"
			  "assert(pkt.src == '" SRC6 "' and pkt.dst == '" DST6 "')\n"
			  "return 'accept'");
	vt_edit_assert_valid(&f, false);
	assert_int_equal(f.edit.fields, VD_EDIT_TTL | VD_EDIT_DSCP | VD_EDIT_SRC | VD_EDIT_DST |
						VD_EDIT_SPORT | VD_EDIT_DPORT | VD_EDIT_TCP_FLAGS);
	assert_int_equal(f.pkt.tcp_flags, VD_TCP_RST);
}

/* IPv4 UDP sent without a checksum keeps none. */
static void test_udp_without_checksum_keeps_zero(void **state)
{
	struct vt_edit_fixture f;

	(void)state;
	vt_edit_make_simple(&f, 4, IPPROTO_UDP, 8);
	f.buf[26] = f.buf[27] = 0;
	vd_packet_edit_prepare(&f.edit, &f.pkt, f.buf, CAPACITY, 0);
	vt_rewrite_ok(&f, "pkt.dport = 53 pkt.src = '" SRC4 "' return 'accept'");
	vt_edit_assert_valid(&f, true);
}

static void test_refused_write_names_field_and_reason(void **state)
{
	struct vt_edit_fixture f;

	(void)state;
	vt_edit_make_simple(&f, 4, IPPROTO_UDP, 8);
	vt_rewrite_fails(&f, "pkt.ttl = 3 pkt.src = '" SRC6 "' return 'accept'", VD_EDIT_FAMILY,
			 "pkt.src: address of the other IP version");
	vt_edit_make_simple(&f, 6, IPPROTO_UDP, 8);
	vt_rewrite_fails(&f, "pkt.dst = '" DST4 "' return 'accept'", VD_EDIT_FAMILY,
			 "pkt.dst: address of the other IP version");
	/* The message starts where the script wrote it. */
	vt_edit_make_simple(&f, 4, IPPROTO_ICMP, 8);
	vt_rewrite_fails(&f, "\n\npkt.dport = 3", VD_EDIT_NO_FIELD,
			 "rules.lua:4: pkt.dport: packet has no such field");
}

/* Values that are not the field's are the script's errors, not refusals:
 * the rule counts them as hook errors (edit->reason stays OK). */
static void test_bad_values_are_lua_errors(void **state)
{
	static const char *const bad[][2] = {
		{ "pkt.ttl = 256", "pkt.ttl: expected a whole number 0-255, got 256" },
		{ "pkt.ttl = -1", "pkt.ttl: expected a whole number 0-255, got -1" },
		{ "pkt.ttl = 1.5", "pkt.ttl: expected a whole number 0-255, got 1.5" },
		{ "pkt.ttl = '7'", "pkt.ttl: expected a whole number 0-255, got a string" },
		{ "pkt.dscp = 64", "pkt.dscp: expected a whole number 0-63, got 64" },
		{ "pkt.ecn = 4", "pkt.ecn: expected a whole number 0-3, got 4" },
		{ "pkt.sport = 65536", "pkt.sport: expected a whole number 0-65535, got 65536" },
		{ "pkt.dport = nil", "pkt.dport: expected a whole number 0-65535, got a nil" },
		{ "pkt.src = 'nope'", "pkt.src: \"nope\" is not an IPv4 or IPv6 address" },
		{ "pkt.dst = 3", "pkt.dst: expected an address string, got a number" },
		{ "pkt.tcp_flags = 'syn,bogus'", "pkt.tcp_flags: unknown TCP flag \"bogus\"" },
		{ "pkt.tcp_flags = ''", "pkt.tcp_flags: expected flags like \"syn,!ack\"" },
		{ "pkt.tcp_flags = 'syn,!syn'", "pkt.tcp_flags: flag \"syn\" given twice" },
		{ "pkt.tcp_flags = 256", "pkt.tcp_flags: expected a whole number 0-255, got 256" },
		{ "pkt.tcp_flags = true", "pkt.tcp_flags: expected flags like \"syn,!ack\" or a number" },
		{ "pkt.len = 3", "pkt.len cannot be assigned (assignable: ttl, dscp, ecn, src, dst, "
				 "sport, dport, tcp_flags)" },
		{ "pkt.nope = 3", "pkt.nope cannot be assigned" },
		{ "pkt[1] = 3", "pkt.1 cannot be assigned" },
	};
	struct vt_edit_fixture f;
	char body[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vt_edit_make_simple(&f, 4, IPPROTO_TCP, 8);
		snprintf(body, sizeof(body), "pkt.dscp = 1 %s return 'accept'", bad[i][0]);
		vt_rewrite_fails(&f, body, VD_EDIT_OK, bad[i][1]);
	}
}

/* A packet that cannot be rewritten (a log group's copy, a caller without
 * an edit): reading works, every write raises. */
static void test_read_only_packet(void **state)
{
	static const char *const writes[] = {
		"pkt.ttl = 1", "pkt.src = '" SRC4 "'", "pkt:set_byte(1, 1)", "pkt:set_payload('x')",
	};
	struct vt_edit_fixture f;
	struct vt_rewrite_run r;
	char body[256];

	(void)state;
	vt_edit_make_simple(&f, 4, IPPROTO_UDP, 8);
	vt_rewrite_run(&f, false, "assert(pkt.ttl == 64 and pkt.dscp == 0) return 'accept'", &r);
	assert_false(r.failed);
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		snprintf(body, sizeof(body), "%s return 'accept'", writes[i]);
		vt_rewrite_run(&f, false, body, &r);
		assert_true(r.failed);
		if (!strstr(r.log, "is read-only here (a log group's copy, or evaluated without "
				   "rewriting)"))
			fail_msg("%s: logged \"%s\"", writes[i], r.log);
	}
	assert_int_equal(f.buf[8], 64);
}

static void test_drop_discards_the_edits(void **state)
{
	struct vt_edit_fixture f;
	struct vt_rewrite_run r;

	(void)state;
	vt_edit_make_simple(&f, 4, IPPROTO_UDP, 8);
	vt_rewrite_run(&f, true, "pkt.ttl = 9 return 'drop'", &r);
	assert_false(r.failed);
	assert_int_equal(r.verdict.kind, VD_VERDICT_DROP);
	assert_int_equal(f.edit.fields, VD_EDIT_TTL);
	assert_false(vd_packet_edit_pending(&f.edit));
	/* Accept, repeat and queue keep them. */
	vt_edit_make_simple(&f, 4, IPPROTO_UDP, 8);
	vt_rewrite_run(&f, true, "pkt.ttl = 9 return 'queue', 3", &r);
	assert_int_equal(r.verdict.kind, VD_VERDICT_QUEUE);
	assert_true(vd_packet_edit_pending(&f.edit));
}

static void test_hook_errors_discard_the_edits(void **state)
{
	static const char *const bodies[][2] = {
		{ "pkt.ttl = 9 error('boom')", "boom" },
		{ "pkt.ttl = 9 return 'maybe'", "returned \"maybe\", not a verdict" },
		{ "pkt.ttl = 9 while true do end", "instruction budget exhausted" },
		/* A refusal the script caught is not why this call failed. */
		{ "pkt.ttl = 9 assert(not pcall(function() pkt.sport = 1 end)) error('later')",
		  "later" },
		{ "pkt.ttl = 9 local ok, e = pcall(function() pkt.sport = 1 end) error(e, 0)",
		  "pkt.sport: packet has no such field" },
	};
	static const uint8_t reasons[] = { VD_EDIT_OK, VD_EDIT_OK, VD_EDIT_OK, VD_EDIT_OK,
					   VD_EDIT_NO_FIELD };
	struct vt_edit_fixture f;

	(void)state;
	for (size_t i = 0; i < sizeof(reasons); i++) {
		vt_edit_make_simple(&f, 4, IPPROTO_ICMP, 8);
		vt_rewrite_fails(&f, bodies[i][0], reasons[i], bodies[i][1]);
		assert_int_equal(f.edit.fields, VD_EDIT_TTL);
	}
}

/* A refusal the script catches leaves the other edits standing. */
static void test_caught_refusal_keeps_other_edits(void **state)
{
	struct vt_edit_fixture f;

	(void)state;
	vt_edit_make_simple(&f, 6, IPPROTO_ICMPV6, 8);
	vt_rewrite_ok(&f, "pkt.ttl = 9\n"
			  "local ok, e = pcall(function() pkt.sport = 1 end)\n"
			  "assert(not ok and e:find('pkt.sport: packet has no such field'), e)\n"
			  "return 'accept'");
	assert_true(vd_packet_edit_pending(&f.edit));
	assert_int_equal(f.buf[7], 9);
	vt_edit_assert_valid(&f, false);
}

/* Through a rule table: a refused write is the rule's on_error (accept:
 * the original packet goes on) with edit->reason set (counted as a rewrite
 * error), the edits discarded. */
static void test_refusal_through_a_rule(void **state)
{
	struct vt_edit_fixture f;
	struct vd_ruleset *rs;
	struct vd_verdict v;
	char why[512];
	bool failed = false;
	int rule;

	(void)state;
	rs = vt_rules_load("return { rules = { { name = \"w\", on_error = \"accept\",\n"
			   "  lua = function(pkt) pkt.ttl = 3 pkt:set_payload('longer than before')"
			   " return 'accept' end } } }\n", why, sizeof(why));
	if (!rs)
		fail_msg("%s", why);
	vt_edit_make_simple(&f, 4, IPPROTO_TCP, 4);
	vd_packet_edit_prepare(&f.edit, &f.pkt, f.buf, CAPACITY, 0);
	v = vd_ruleset_eval(rs, 0, &f.pkt, &f.edit, &rule, &failed);
	assert_int_equal(v.kind, VD_VERDICT_ACCEPT);
	assert_true(failed);
	assert_int_equal(f.edit.reason, VD_EDIT_TCP_LENGTH);
	assert_false(vd_packet_edit_pending(&f.edit));
	/* The same rule on UDP rewrites. */
	vt_edit_make_simple(&f, 4, IPPROTO_UDP, 4);
	vd_packet_edit_prepare(&f.edit, &f.pkt, f.buf, CAPACITY, 0);
	v = vd_ruleset_eval(rs, 0, &f.pkt, &f.edit, &rule, &failed);
	assert_int_equal(v.kind, VD_VERDICT_ACCEPT);
	assert_false(failed);
	assert_true(vd_packet_edit_pending(&f.edit));
	vt_edit_assert_valid(&f, false);
	vd_ruleset_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_every_field_every_protocol, vt_lua_teardown),
		cmocka_unit_test_teardown(test_all_fields_together_lazily, vt_lua_teardown),
		cmocka_unit_test_teardown(test_udp_without_checksum_keeps_zero, vt_lua_teardown),
		cmocka_unit_test_teardown(test_refused_write_names_field_and_reason,
					  vt_lua_teardown),
		cmocka_unit_test_teardown(test_bad_values_are_lua_errors, vt_lua_teardown),
		cmocka_unit_test_teardown(test_read_only_packet, vt_lua_teardown),
		cmocka_unit_test_teardown(test_drop_discards_the_edits, vt_lua_teardown),
		cmocka_unit_test_teardown(test_hook_errors_discard_the_edits, vt_lua_teardown),
		cmocka_unit_test_teardown(test_caught_refusal_keeps_other_edits, vt_lua_teardown),
		cmocka_unit_test_teardown(test_refusal_through_a_rule, vt_lua_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
