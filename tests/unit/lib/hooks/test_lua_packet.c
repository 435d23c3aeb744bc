/* test_lua_packet.c - the pkt object Lua hooks see (engine/lib/hooks/lua_packet.c):
 * every field on every kind of packet, nil where the packet lacks the field;
 * pkt:payload(i, j) and pkt:byte(i) against string.sub and string.byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <lua.h>

#include "helpers.h"
#include "lua_hook.h"
#include "rules_fixture.h"

static struct vd_lua *lua;

static int teardown(void **state)
{
	(void)state;
	vd_lua_close(lua);
	lua = NULL;
	return 0;
}

/* Loads text (a rules file returning { f = function(pkt) ... end }) with a
 * budget large enough for the exhaustive loops below. */
static int load_hook(const char *text)
{
	struct vd_lua_limits lim = { .instructions = 200000000 };
	char err[512];
	lua_State *L;
	int ref;

	vd_lua_close(lua);
	lua = vd_lua_open(&lim, err, sizeof(err));
	if (!lua)
		fail_msg("open: %s", err);
	if (vd_lua_load_file(lua, vt_rules_write(text), err, sizeof(err)) != 0)
		fail_msg("load: %s", err);
	L = vd_lua_state(lua);
	vd_lua_push_result(lua);
	lua_getfield(L, -1, "f");
	ref = vd_lua_ref_function(lua);
	lua_pop(L, 1);
	assert_true(ref >= 0);
	return ref;
}

/* Runs the hook; it raises an error (logged, naming what differs) unless
 * everything it checks holds. */
static void hook_passes(int ref, const struct vd_packet *pkt, const char *what)
{
	bool failed = true;
	struct vd_verdict v = vd_lua_call(lua, ref, what, pkt, NULL, vd_verdict_drop(), &failed);

	if (failed || v.kind != VD_VERDICT_ACCEPT)
		fail_msg("%s: the hook's checks failed (its message is logged above)", what);
}

enum kind { TCP4, UDP4, ICMP4, ICMP6, TCP6, GRE4, TCP4_SHORT, NON_IP, EMPTY, NKINDS };

static const char *const kind_names[NKINDS] = {
	"TCP/IPv4", "UDP/IPv4", "ICMP", "ICMPv6", "TCP/IPv6", "GRE/IPv4",
	"TCP/IPv4 with the TCP header cut", "not IP", "empty",
};

static const uint8_t hello[] = "hello"; /* 5 payload bytes, without the NUL */

/* Every kind with the same metadata: queue 2, id 77, nothing else. */
static struct vd_packet *packet_of(enum kind k)
{
	static uint8_t buf[VT_PACKET_MAX];
	static struct vd_packet own;
	struct vd_packet *p = &own;
	struct vt_l4 tcp = { .proto = IPPROTO_TCP, .sport = 40000, .dport = 80,
			     .tcp_flags = VD_TCP_SYN, .payload = hello, .payload_len = 5 };
	size_t n;

	switch (k) {
	case TCP4:
		p = vt_packet(&(struct vt_packet_spec){ .version = 4, .proto = IPPROTO_TCP,
							.src = "198.18.0.1", .dst = "198.18.0.2",
							.sport = 40000, .dport = 80,
							.tcp_flags = VD_TCP_SYN, .payload = hello,
							.payload_len = 5 });
		break;
	case UDP4:
		p = vt_packet(&(struct vt_packet_spec){ .version = 4, .proto = IPPROTO_UDP,
							.src = "198.18.0.1", .dst = "198.18.0.2",
							.sport = 1234, .dport = 53, .payload = hello,
							.payload_len = 5 });
		break;
	case ICMP4:
		p = vt_packet(&(struct vt_packet_spec){ .version = 4, .proto = IPPROTO_ICMP,
							.src = "198.18.0.1", .dst = "198.18.0.2",
							.icmp_type = 3, .icmp_code = 1, .payload = hello,
							.payload_len = 5 });
		break;
	case ICMP6:
		p = vt_packet(&(struct vt_packet_spec){ .version = 6, .proto = IPPROTO_ICMPV6,
							.src = "2001:db8::1", .dst = "2001:db8::2",
							.icmp_type = 128, .payload = hello,
							.payload_len = 5 });
		break;
	case TCP6:
		p = vt_packet(&(struct vt_packet_spec){ .version = 6, .proto = IPPROTO_TCP,
							.src = "2001:db8::1", .dst = "2001:db8::2",
							.sport = 40001, .dport = 443,
							.tcp_flags = VD_TCP_SYN | VD_TCP_ACK,
							.payload = hello, .payload_len = 5 });
		break;
	case GRE4:
		p = vt_packet(&(struct vt_packet_spec){ .version = 4, .proto = IPPROTO_GRE,
							.src = "198.18.0.1", .dst = "198.18.0.2",
							.payload = hello, .payload_len = 5 });
		break;
	case TCP4_SHORT: /* 10 of the TCP header's 20 bytes captured */
		n = vt_ipv4_build(buf, sizeof(buf), NULL, &tcp);
		assert_int_equal(vt_parse(p, buf, 30, n), VD_PARSE_L4_SHORT);
		break;
	case NON_IP:
		memcpy(buf, "\x00\x11\x22\x33", 4);
		assert_int_equal(vt_parse(p, buf, 4, 4), VD_PARSE_IP_VERSION);
		break;
	case EMPTY:
	default:
		assert_int_equal(vt_parse(p, buf, 0, 0), VD_PARSE_EMPTY);
		break;
	}
	p->queue = 2;
	p->id = 77;
	return p;
}

/* What each field must read, as a Lua expression, per kind (columns in the
 * order of enum kind). nil: the packet does not have the field. */
static const struct {
	const char *field;
	const char *want[NKINDS];
} fields[] = {
	/*                 TCP4    UDP4    ICMP4   ICMP6    TCP6    GRE4   SHORT   NON_IP  EMPTY */
	{ "proto",      { "'tcp'", "'udp'", "'icmp'", "'icmpv6'", "'tcp'", "'gre'", "'tcp'", "nil", "nil" } },
	{ "src",        { "'198.18.0.1'", "'198.18.0.1'", "'198.18.0.1'", "'2001:db8::1'",
			  "'2001:db8::1'", "'198.18.0.1'", "'" VT_IPV4_SRC "'", "nil", "nil" } },
	{ "dst",        { "'198.18.0.2'", "'198.18.0.2'", "'198.18.0.2'", "'2001:db8::2'",
			  "'2001:db8::2'", "'198.18.0.2'", "'" VT_IPV4_DST "'", "nil", "nil" } },
	{ "sport",      { "40000", "1234", "nil", "nil", "40001", "nil", "nil", "nil", "nil" } },
	{ "dport",      { "80", "53", "nil", "nil", "443", "nil", "nil", "nil", "nil" } },
	{ "tcp_flags",  { "0x02", "nil", "nil", "nil", "0x12", "nil", "nil", "nil", "nil" } },
	{ "icmp_type",  { "nil", "nil", "3", "128", "nil", "nil", "nil", "nil", "nil" } },
	{ "icmp_code",  { "nil", "nil", "1", "0", "nil", "nil", "nil", "nil", "nil" } },
	{ "len",        { "45", "33", "33", "53", "65", "25", "45", "4", "0" } },
	{ "payload_len", { "5", "5", "5", "5", "5", "5", "nil", "nil", "nil" } },
	{ "ttl",        { "64", "64", "64", "64", "64", "64", "64", "nil", "nil" } },
	{ "dscp",       { "0", "0", "0", "0", "0", "0", "0", "nil", "nil" } },
	{ "ecn",        { "0", "0", "0", "0", "0", "0", "0", "nil", "nil" } },
	{ "ip_version", { "4", "4", "4", "6", "6", "4", "4", "nil", "nil" } },
	{ "truncated",  { "false", "false", "false", "false", "false", "false", "true", "false", "false" } },
	{ "parse_error", { "nil", "nil", "nil", "nil", "nil", "nil", "'transport header cut short'",
			   "'unknown IP version'", "'empty packet'" } },
	/* Metadata: the same on every kind. */
	{ "queue",      { "2", "2", "2", "2", "2", "2", "2", "2", "2" } },
	{ "id",         { "77", "77", "77", "77", "77", "77", "77", "77", "77" } },
	{ "mark",       { "0", "0", "0", "0", "0", "0", "0", "0", "0" } },
	{ "ct_state",   { "'invalid'", "'invalid'", "'invalid'", "'invalid'", "'invalid'", "'invalid'",
			  "'invalid'", "'invalid'", "'invalid'" } },
	{ "indev",      { "nil", "nil", "nil", "nil", "nil", "nil", "nil", "nil", "nil" } },
	{ "uid",        { "nil", "nil", "nil", "nil", "nil", "nil", "nil", "nil", "nil" } },
	{ "group",      { "nil", "nil", "nil", "nil", "nil", "nil", "nil", "nil", "nil" } },
};

/* One hook checking every field of kind k: it collects the mismatches and
 * raises them as one error. */
static char *script_for(enum kind k)
{
	size_t cap = 16384, off = 0;
	char *text = malloc(cap);

	assert_non_null(text);
	off += (size_t)snprintf(text + off, cap - off,
		"return { f = function(pkt)\n"
		"  local bad = {}\n"
		"  local function want(name, got, exp)\n"
		"    if got ~= exp or math.type(got) ~= math.type(exp) then\n"
		"      bad[#bad + 1] = string.format('pkt.%%s is %%s, want %%s', name,\n"
		"                                    tostring(got), tostring(exp))\n"
		"    end\n"
		"  end\n");
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		off += (size_t)snprintf(text + off, cap - off, "  want('%s', pkt.%s, %s)\n",
					fields[i].field, fields[i].field, fields[i].want[k]);
	snprintf(text + off, cap - off,
		 "  if #bad > 0 then error('%s: ' .. table.concat(bad, '; ')) end\n"
		 "  return 'accept'\n"
		 "end }\n",
		 kind_names[k]);
	assert_true(off < cap - 200);
	return text;
}

static void test_fields_by_kind(void **state)
{
	(void)state;
	for (int k = 0; k < NKINDS; k++) {
		char *text = script_for(k);
		int ref = load_hook(text);

		free(text);
		hook_passes(ref, packet_of(k), kind_names[k]);
	}
}

/* A hook comparing pkt:payload(i, j) with string.sub and pkt:byte(i) with
 * string.byte on the same bytes, for every i and j in -70..70 and the
 * integer extremes. Both sides are computed in Lua, so the test checks
 * itself: the expected string is built from the pattern the packet holds. */
static const char *const sub_script =
	"local function expected(n)\n"
	"  local t = {}\n"
	"  for k = 0, n - 1 do t[#t + 1] = string.char((k * 7 + 3) % 256) end\n"
	"  return table.concat(t)\n"
	"end\n"
	"return { f = function(pkt)\n"
	"  local s = expected(pkt.payload_len or 0)\n"
	"  if pkt:payload() ~= s then error('payload() differs from the packet bytes') end\n"
	"  local idx = { math.mininteger, math.mininteger + 1, math.maxinteger }\n"
	"  for i = -70, 70 do idx[#idx + 1] = i end\n"
	"  for _, i in ipairs(idx) do\n"
	"    if pkt:byte(i) ~= s:byte(i) then\n"
	"      error(string.format('byte(%d) is %s, string.byte gives %s', i,\n"
	"                          tostring(pkt:byte(i)), tostring(s:byte(i))))\n"
	"    end\n"
	"    if pkt:payload(i) ~= s:sub(i) then\n"
	"      error(string.format('payload(%d) has %d bytes, string.sub gives %d', i,\n"
	"                          #pkt:payload(i), #s:sub(i)))\n"
	"    end\n"
	"    for _, j in ipairs(idx) do\n"
	"      if pkt:payload(i, j) ~= s:sub(i, j) then\n"
	"        error(string.format('payload(%d, %d) has %d bytes, string.sub gives %d', i, j,\n"
	"                            #pkt:payload(i, j), #s:sub(i, j)))\n"
	"      end\n"
	"    end\n"
	"  end\n"
	"  return 'accept'\n"
	"end }\n";

static void test_payload_and_byte_follow_string_sub(void **state)
{
	uint8_t bytes[64];
	int ref;

	(void)state;
	for (size_t k = 0; k < sizeof(bytes); k++)
		bytes[k] = (uint8_t)((k * 7 + 3) % 256);
	ref = load_hook(sub_script);
	hook_passes(ref,
		    vt_packet(&(struct vt_packet_spec){ .version = 4, .proto = IPPROTO_UDP,
							.sport = 1, .dport = 2, .payload = bytes,
							.payload_len = sizeof(bytes) }),
		    "64-byte payload");
	/* The same rules over no payload at all. */
	hook_passes(ref, packet_of(EMPTY), "empty packet");
	hook_passes(ref, packet_of(TCP4_SHORT), "no L4 payload");
}

/* The check a hook writes for a packet's last bytes: with payload(-4)
 * returning everything, it passed for any packet that merely contains them. */
static void test_trailer_check_fails_closed(void **state)
{
	static const uint8_t tail_ok[] = "....data....END!", tail_bad[] = "END!....data....";
	int ref;

	(void)state;
	ref = load_hook("return { f = function(pkt)\n"
			"  if pkt:payload(-4) == 'END!' and pkt:byte(-1) == 33 then return 'accept' end\n"
			"  return 'drop'\n"
			"end }\n");
	hook_passes(ref,
		    vt_packet(&(struct vt_packet_spec){ .version = 4, .proto = IPPROTO_UDP,
							.payload = tail_ok, .payload_len = 16 }),
		    "trailer present");
	assert_int_equal(vd_lua_call(lua, ref, "t",
				     vt_packet(&(struct vt_packet_spec){
					     .version = 4, .proto = IPPROTO_UDP,
					     .payload = tail_bad, .payload_len = 16 }),
				     NULL, vd_verdict_accept(), NULL).kind,
			 VD_VERDICT_DROP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_fields_by_kind, teardown),
		cmocka_unit_test_teardown(test_payload_and_byte_follow_string_sub, teardown),
		cmocka_unit_test_teardown(test_trailer_check_fails_closed, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
