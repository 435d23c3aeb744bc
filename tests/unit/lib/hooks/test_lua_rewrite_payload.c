/* test_lua_rewrite_payload.c - pkt:set_byte and pkt:set_payload from a Lua
 * hook (engine/lib/hooks/lua_rewrite.c): same-length writes on every
 * protocol, growth and shrink of UDP and ICMP payloads on IPv4 and IPv6 with
 * every length and checksum right, ranges read as string.sub reads them,
 * and the refusals (a TCP length change, no room). The fixture's payloads
 * are the bytes 0, 1, 2, ... */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "lua_fixture.h"
#include "rewrite_fixture.h"

/* The edited payload is want (n bytes). */
static void payload_is(const struct vt_edit_fixture *f, const void *want, size_t n)
{
	assert_int_equal(f->pkt.payload_len, n);
	assert_memory_equal(f->pkt.payload, want, n);
}

static void test_set_byte_every_protocol(void **state)
{
	static const uint8_t want[] = { 0x41, 1, 2, 3, 4, 5, 6, 0xfe };
	struct vt_edit_fixture f;

	(void)state;
	for (int v = 4; v <= 6; v += 2) {
		for (unsigned i = 0; i < VT_REWRITE_PROTOS; i++) {
			uint8_t proto = vt_rewrite_proto(v, i);

			vt_edit_make_simple(&f, v, proto, 8);
			vt_rewrite_ok(&f, "pkt:set_byte(1, 0x41) pkt:set_byte(-1, 254)\n"
					  "assert(pkt:byte(1) == 0x41 and pkt:byte(8) == 254, 'byte')\n"
					  "assert(pkt:payload(1, 2) == 'A\\1', 'payload')\n"
					  "return 'accept'");
			vt_edit_assert_valid(&f, false);
			payload_is(&f, want, sizeof(want));
			assert_int_equal(f.edit.fields, VD_EDIT_PAYLOAD);
		}
	}
}

static void test_set_byte_bad_arguments(void **state)
{
	static const char *const bad[][2] = {
		{ "pkt:set_byte(0, 1)", "pkt:set_byte: index 0 is outside the payload (1-4)" },
		{ "pkt:set_byte(5, 1)", "pkt:set_byte: index 5 is outside the payload (1-4)" },
		{ "pkt:set_byte(-5, 1)", "pkt:set_byte: index -5 is outside the payload (1-4)" },
		{ "pkt:set_byte(1, 256)", "pkt:set_byte: expected a whole number 0-255, got 256" },
		{ "pkt:set_byte(1, 'a')", "pkt:set_byte: expected a whole number 0-255, got a string" },
		{ "pkt:set_byte(1.5, 1)", "number has no integer representation" },
	};
	struct vt_edit_fixture f;
	char body[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vt_edit_make_simple(&f, 4, IPPROTO_UDP, 4);
		snprintf(body, sizeof(body), "pkt.ttl = 5 %s return 'accept'", bad[i][0]);
		vt_rewrite_fails(&f, body, VD_EDIT_OK, bad[i][1]);
	}
}

/* Growth and shrink of a UDP payload, IPv4 and IPv6: the IP and UDP
 * lengths, the checksums and the view all follow. */
static void test_udp_payload_grows_and_shrinks(void **state)
{
	struct vt_edit_fixture f;
	char big[41];

	(void)state;
	memset(big, 'x', 40);
	big[40] = '\0';
	for (int v = 4; v <= 6; v += 2) {
		vt_edit_make_simple(&f, v, IPPROTO_UDP, 10);
		vt_rewrite_ok(&f, "local n = pkt.len pkt:set_payload(string.rep('x', 40))\n"
				  "assert(pkt.len == n + 30 and pkt.payload_len == 40, 'len')\n"
				  "assert(pkt:payload() == string.rep('x', 40), 'payload')\n"
				  "return 'accept'");
		vt_edit_assert_valid(&f, false);
		payload_is(&f, big, 40);
		assert_int_equal(f.edit.len, f.edit.orig_len + 30);

		vt_edit_make_simple(&f, v, IPPROTO_UDP, 10);
		vt_rewrite_ok(&f, "pkt:set_payload('ab') assert(pkt:payload() == 'ab') "
				  "return 'accept'");
		vt_edit_assert_valid(&f, false);
		payload_is(&f, "ab", 2);
		assert_int_equal(f.edit.len, f.edit.orig_len - 8);

		vt_edit_make_simple(&f, v, IPPROTO_UDP, 10);
		vt_rewrite_ok(&f, "pkt:set_payload('') assert(pkt.payload_len == 0 and "
				  "pkt:payload() == '') return 'accept'");
		vt_edit_assert_valid(&f, false);
		assert_int_equal(f.edit.len, v == 4 ? 28 : 48);
	}
}

/* ICMP and ICMPv6 messages may change length too. */
static void test_icmp_payload_grows(void **state)
{
	struct vt_edit_fixture f;

	(void)state;
	for (int v = 4; v <= 6; v += 2) {
		vt_edit_make_simple(&f, v, v == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, 3);
		vt_rewrite_ok(&f, "pkt:set_payload('ping!', 4) return 'accept'");
		vt_edit_assert_valid(&f, false);
		payload_is(&f, "\0\1\2ping!", 8);
	}
}

/* set_payload(s, i, j) replaces what string.sub(payload, i, j) returns;
 * an empty range inserts at i. */
static void test_set_payload_ranges(void **state)
{
	static const struct {
		const char *call;
		const char *want;
		size_t n;
	} cases[] = {
		{ "pkt:set_payload('XY', 2, 3)", "\0XY\3\4\5", 6 },
		{ "pkt:set_payload('XY', 2, 2)", "\0XY\2\3\4\5", 7 },
		{ "pkt:set_payload('ab', 3, 2)", "\0\1ab\2\3\4\5", 8 },
		{ "pkt:set_payload('Z', -1)", "\0\1\2\3\4Z", 6 },
		{ "pkt:set_payload('Z', -2, -2)", "\0\1\2\3Z\5", 6 },
		{ "pkt:set_payload('end', 7)", "\0\1\2\3\4\5end", 9 },
		{ "pkt:set_payload('end', 100, 200)", "\0\1\2\3\4\5end", 9 },
		{ "pkt:set_payload('', 2, 5)", "\0\5", 2 },
		{ "pkt:set_payload('a', 0)", "a", 1 },
		{ "pkt:set_payload('all')", "all", 3 },
	};
	struct vt_edit_fixture f;
	char body[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vt_edit_make_simple(&f, 6, IPPROTO_UDP, 6);
		snprintf(body, sizeof(body), "%s return 'accept'", cases[i].call);
		vt_rewrite_ok(&f, body);
		vt_edit_assert_valid(&f, false);
		payload_is(&f, cases[i].want, cases[i].n);
	}
}

/* TCP: the same length is rewritten; another length needs the kernel's
 * sequence adjustment and is refused, the earlier edits discarded. */
static void test_tcp_length_change_refused(void **state)
{
	struct vt_edit_fixture f;

	(void)state;
	for (int v = 4; v <= 6; v += 2) {
		vt_edit_make_simple(&f, v, IPPROTO_TCP, 6);
		vt_rewrite_ok(&f, "pkt:set_payload('GET /', 1, 5) assert(pkt:payload() == 'GET /\\5') "
				  "return 'accept'");
		vt_edit_assert_valid(&f, false);
		payload_is(&f, "GET /\5", 6);

		vt_edit_make_simple(&f, v, IPPROTO_TCP, 6);
		vt_rewrite_fails(&f, "pkt.ttl = 2 pkt:set_payload('GET / HTTP/1.1') return 'accept'",
				 VD_EDIT_TCP_LENGTH,
				 "pkt:set_payload: TCP payload length change needs the kernel's "
				 "sequence adjustment");
		vt_edit_make_simple(&f, v, IPPROTO_TCP, 6);
		vt_rewrite_fails(&f, "pkt:set_payload('', 1, 1) return 'accept'", VD_EDIT_TCP_LENGTH,
				 "pkt:set_payload: TCP payload length change");
	}
}

static void test_set_payload_refusals_and_bad_arguments(void **state)
{
	struct vt_edit_fixture f;
	char body[128];

	(void)state;
	vt_edit_make_simple(&f, 4, IPPROTO_UDP, 6);
	vt_rewrite_fails(&f, "pkt:set_payload(7) return 'accept'", VD_EDIT_OK,
			 "pkt:set_payload: expected a string, got a number");
	vt_edit_make_simple(&f, 4, IPPROTO_UDP, 6);
	vt_rewrite_fails(&f, "pkt:set_payload('x', 'a') return 'accept'", VD_EDIT_OK,
			 "number expected, got string");
	/* Past the 65,535 bytes of an IPv4 packet. */
	vt_edit_make_simple(&f, 4, IPPROTO_UDP, 6);
	vt_rewrite_fails(&f, "pkt:set_payload(string.rep('x', 70000)) return 'accept'",
			 VD_EDIT_TOO_LONG, "pkt:set_payload: result over 65535 bytes");
	/* Past the buffer's tail room. */
	vt_edit_make_simple(&f, 4, IPPROTO_UDP, 6);
	snprintf(body, sizeof(body), "pkt:set_payload(string.rep('x', %d)) return 'accept'",
		 CAPACITY);
	vt_rewrite_fails(&f, body, VD_EDIT_NO_ROOM,
			 "pkt:set_payload: result over the room for it (a verdict carries 65,531 bytes at most)");
	/* A protocol whose payload is not rewritten. */
	vt_edit_make_simple(&f, 4, IPPROTO_GRE, 6);
	vt_rewrite_fails(&f, "pkt:set_byte(1, 1) return 'accept'", VD_EDIT_NO_FIELD,
			 "pkt:set_byte: packet has no such field");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_set_byte_every_protocol, vt_lua_teardown),
		cmocka_unit_test_teardown(test_set_byte_bad_arguments, vt_lua_teardown),
		cmocka_unit_test_teardown(test_udp_payload_grows_and_shrinks, vt_lua_teardown),
		cmocka_unit_test_teardown(test_icmp_payload_grows, vt_lua_teardown),
		cmocka_unit_test_teardown(test_set_payload_ranges, vt_lua_teardown),
		cmocka_unit_test_teardown(test_tcp_length_change_refused, vt_lua_teardown),
		cmocka_unit_test_teardown(test_set_payload_refusals_and_bad_arguments,
					  vt_lua_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
