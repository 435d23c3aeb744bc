/* test_lua_hook.c - the Lua binding (engine/lua_hook.c): the sandbox, the
 * pkt object, what a hook may return, and what happens when it fails or
 * overruns its instruction budget or memory cap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <lua.h>

#include "lua_hook.h"
#include "rules_fixture.h"

static struct vd_lua *lua;
static char err[512];

static int teardown(void **state)
{
	(void)state;
	vd_lua_close(lua);
	lua = NULL;
	return 0;
}

static void open_text(const char *text, const struct vd_lua_limits *lim)
{
	err[0] = '\0';
	lua = vd_lua_open(lim, err, sizeof(err));
	if (!lua)
		fail_msg("open: %s", err);
	if (vd_lua_load_file(lua, vt_rules_write(text), err, sizeof(err)) != 0)
		fail_msg("load: %s", err);
}

/* A reference to the function the file's table holds under name. */
static int hook(const char *name)
{
	lua_State *L = vd_lua_state(lua);
	int top = lua_gettop(L), ref;

	vd_lua_push_result(lua);
	lua_getfield(L, -1, name);
	ref = vd_lua_ref_function(lua);
	lua_settop(L, top);
	assert_true(ref >= 0);
	return ref;
}

static const uint8_t payload[] = { 0xff, 0x01, 'a', 'b' };

static struct vd_packet *udp4(void)
{
	return vt_packet(&(struct vt_packet_spec){ .version = 4, .proto = IPPROTO_UDP,
						   .src = "198.18.0.1", .dst = "198.19.0.2",
						   .sport = 1234, .dport = 53, .payload = payload,
						   .payload_len = sizeof(payload) });
}

/* Calls hook name on pkt; returns the verdict and sets *failed. */
static struct vd_verdict call(const char *name, const struct vd_packet *pkt, bool *failed)
{
	struct vd_verdict on_error = vd_verdict_with_mark(vd_verdict_drop(), 0xdead, 0xffff);

	return vd_lua_call(lua, hook(name), name, pkt, NULL, on_error, failed);
}

static void expect_ok(const char *name, const struct vd_packet *pkt, struct vd_verdict want)
{
	bool failed = true;
	struct vd_verdict v = call(name, pkt, &failed);

	assert_false(failed);
	assert_true(vd_verdict_equal(v, want));
}

static void expect_failure(const char *name, const struct vd_packet *pkt)
{
	bool failed = false;
	uint64_t before = vd_lua_errors(lua);
	struct vd_verdict v = call(name, pkt, &failed);

	assert_true(failed);
	assert_int_equal(v.kind, VD_VERDICT_DROP);
	assert_int_equal(v.mark, 0xdead); /* the on_error verdict, as given */
	assert_int_equal(vd_lua_errors(lua), before + 1);
}

static void test_sandbox_allows_only_safe_libraries(void **state)
{
	(void)state;
	open_text("local function absent(...)\n"
		  "  for _, v in ipairs({...}) do if v ~= nil then return 'drop' end end\n"
		  "  return 'accept'\n"
		  "end\n"
		  "return {\n"
		  "  banned = function() return absent(io, os, package, debug, require, load,\n"
		  "    loadfile, dofile, collectgarbage, string.dump, coroutine, warn) end,\n"
		  "  allowed = function()\n"
		  "    if string.format('%d', 7) == '7' and table.concat({1,2}, ',') == '1,2'\n"
		  "       and math.max(1, 2) == 2 and utf8.char(65) == 'A' and tostring(1) == '1'\n"
		  "       and pcall(error, 'x') == false then return 'accept' end\n"
		  "    return 'drop'\n"
		  "  end,\n"
		  "}\n",
		  NULL);
	expect_ok("banned", udp4(), vd_verdict_accept());
	expect_ok("allowed", udp4(), vd_verdict_accept());
}

static void test_packet_fields(void **state)
{
	(void)state;
	open_text("return { f = function(pkt)\n"
		  "  assert(pkt.proto == 'udp', 'proto')\n"
		  "  assert(pkt.src == '198.18.0.1' and pkt.dst == '198.19.0.2', 'addresses')\n"
		  "  assert(pkt.sport == 1234 and pkt.dport == 53, 'ports')\n"
		  "  assert(pkt.len == 20 + 8 + 4 and pkt.payload_len == 4, 'lengths')\n"
		  "  assert(pkt.ttl == 64, 'ttl ' .. tostring(pkt.ttl))\n"
		  "  assert(pkt.ip_version == 4 and pkt.tcp_flags == nil, 'version; no TCP flags on UDP')\n"
		  "  assert(pkt.mark == 7 and pkt.queue == 3, 'mark, queue')\n"
		  "  assert(pkt.indev == 2 and pkt.outdev == nil, 'devices')\n"
		  "  assert(pkt.uid == 1000 and pkt.gid == nil, 'uid, gid')\n"
		  "  assert(pkt.ct_state == 'new', 'ct_state')\n"
		  "  assert(pkt.parse_error == nil and pkt.truncated == false, 'parse')\n"
		  "  assert(pkt:byte(1) == 0xff and pkt:byte(4) == 98, 'byte')\n"
		  "  assert(pkt:byte(0) == nil and pkt:byte(5) == nil, 'byte out of range')\n"
		  "  assert(pkt:payload() == '\\xff\\x01ab' and pkt:payload(3) == 'ab', 'payload')\n"
		  "  assert(pkt:payload(2, 2) == '\\x01' and pkt:payload(5) == '', 'payload range')\n"
		  "  assert(pkt.time > 1e9, 'time')\n"
		  "  assert(pkt.prefix == nil and pkt.seq == nil and pkt.group == nil, 'no log fields')\n"
		  "  return 'accept'\n"
		  "end }\n",
		  NULL);
	struct vd_packet *p = udp4();

	p->meta |= VD_META_MARK | VD_META_INDEV | VD_META_UID | VD_META_CT;
	p->mark = 7;
	p->queue = 3;
	p->indev = 2;
	p->uid = 1000;
	p->ct_state = VD_CT_NEW;
	expect_ok("f", p, vd_verdict_accept());
}

static void test_log_packet_fields(void **state)
{
	struct vd_packet *p;

	(void)state;
	open_text("return { f = function(pkt)\n"
		  "  assert(pkt.prefix == 'web', 'prefix')\n"
		  "  assert(pkt.seq == 17 and pkt.group == 5 and pkt.queue == 5, 'seq, group')\n"
		  "  return 'accept'\n"
		  "end }\n",
		  NULL);
	p = udp4();
	p->source = VD_SOURCE_NFLOG;
	p->queue = 5;
	p->meta |= VD_META_PREFIX | VD_META_SEQ;
	p->prefix = "web";
	p->seq = 17;
	expect_ok("f", p, vd_verdict_accept());
}

static void test_ipv6_and_tcp_fields(void **state)
{
	(void)state;
	open_text("return { f = function(pkt)\n"
		  "  assert(pkt.proto == 'tcp' and pkt.ip_version == 6)\n"
		  "  assert(pkt.src == '2001:db8::1', pkt.src)\n"
		  "  assert(pkt.tcp_flags == 0x12, 'flags')\n"
		  "  assert(pkt.ct_state == 'invalid', 'no conntrack: invalid')\n"
		  "  return 'accept'\n"
		  "end }\n",
		  NULL);
	expect_ok("f",
		  vt_packet(&(struct vt_packet_spec){ .version = 6, .proto = IPPROTO_TCP,
						      .src = "2001:db8::1", .dst = "2001:db8::2",
						      .sport = 1, .dport = 2,
						      .tcp_flags = VD_TCP_SYN | VD_TCP_ACK }),
		  vd_verdict_accept());
}

static void test_unknown_field_and_writes_are_errors(void **state)
{
	(void)state;
	open_text("return { read = function(pkt) return pkt.dprot end,\n"
		  "         write = function(pkt) pkt.mark = 1 return 'accept' end }\n",
		  NULL);
	expect_failure("read", udp4());
	expect_failure("write", udp4());
}

static void test_verdicts_and_marks(void **state)
{
	(void)state;
	open_text("return {\n"
		  "  s_accept = function() return 'accept' end,\n"
		  "  s_drop = function() return 'drop' end,\n"
		  "  s_repeat = function() return 'repeat' end,\n"
		  "  c_accept = function() return ACCEPT end,\n"
		  "  c_drop = function() return DROP end,\n"
		  "  c_repeat = function() return REPEAT end,\n"
		  "  mark = function() return 'accept', 0x10 end,\n"
		  "  masked = function() return DROP, { value = 0x100, mask = 0xf00 } end,\n"
		  "  value_only = function() return 'accept', { value = 5 } end,\n"
		  "}\n",
		  NULL);
	expect_ok("s_accept", udp4(), vd_verdict_accept());
	expect_ok("s_drop", udp4(), vd_verdict_drop());
	expect_ok("s_repeat", udp4(), vd_verdict_repeat());
	expect_ok("c_accept", udp4(), vd_verdict_accept());
	expect_ok("c_drop", udp4(), vd_verdict_drop());
	expect_ok("c_repeat", udp4(), vd_verdict_repeat());
	expect_ok("mark", udp4(), vd_verdict_with_mark(vd_verdict_accept(), 0x10, 0xffffffff));
	expect_ok("masked", udp4(), vd_verdict_with_mark(vd_verdict_drop(), 0x100, 0xf00));
	expect_ok("value_only", udp4(), vd_verdict_with_mark(vd_verdict_accept(), 5, 0xffffffff));
}

static void test_bad_returns_give_on_error(void **state)
{
	(void)state;
	open_text("return {\n"
		  "  nothing = function() end,\n"
		  "  word = function() return 'allow' end,\n"
		  "  number = function() return 2 end,\n"
		  "  fraction = function() return 0.5 end,\n"
		  "  negative_mark = function() return 'accept', -1 end,\n"
		  "  big_mark = function() return 'accept', 0x100000000 end,\n"
		  "  string_mark = function() return 'accept', '16' end,\n"
		  "  table_mark = function() return 'accept', { mask = 1 } end,\n"
		  "}\n",
		  NULL);
	expect_failure("nothing", udp4());
	expect_failure("word", udp4());
	expect_failure("number", udp4());
	expect_failure("fraction", udp4());
	expect_failure("negative_mark", udp4());
	expect_failure("big_mark", udp4());
	expect_failure("string_mark", udp4());
	expect_failure("table_mark", udp4());
}

/* Every verdict a rule can give: queue N (with bypass), and options tables
 * carrying a mark for any verdict. */
static void test_queue_and_options_returns(void **state)
{
	struct vd_verdict q3 = vd_verdict_queue(3, false);

	(void)state;
	open_text("return {\n"
		  "  q_number = function() return 'queue', 3 end,\n"
		  "  q_constant = function() return QUEUE, 3 end,\n"
		  "  q_highest = function() return 'queue', 65535 end,\n"
		  "  q_float = function() return 'queue', 3.0 end,\n"
		  "  q_table = function() return 'queue', { queue = 3 } end,\n"
		  "  q_all = function() return 'queue', { queue = 0, bypass = true, mark = 0x10 } end,\n"
		  "  q_no_bypass = function() return QUEUE, { queue = 7, bypass = false } end,\n"
		  "  o_mark = function() return 'accept', { mark = 0x10 } end,\n"
		  "  o_masked = function() return DROP, { mark = { value = 0x10, mask = 0x30 } } end,\n"
		  "  o_value_only = function() return 'repeat', { mark = { value = 9 } } end,\n"
		  "  o_empty = function() return 'accept', {} end,\n"
		  "}\n",
		  NULL);
	expect_ok("q_number", udp4(), q3);
	expect_ok("q_constant", udp4(), q3);
	expect_ok("q_highest", udp4(), vd_verdict_queue(65535, false));
	expect_ok("q_float", udp4(), q3);
	expect_ok("q_table", udp4(), q3);
	expect_ok("q_all", udp4(), vd_verdict_with_mark(vd_verdict_queue(0, true), 0x10, 0xffffffff));
	expect_ok("q_no_bypass", udp4(), vd_verdict_queue(7, false));
	expect_ok("o_mark", udp4(), vd_verdict_with_mark(vd_verdict_accept(), 0x10, 0xffffffff));
	expect_ok("o_masked", udp4(), vd_verdict_with_mark(vd_verdict_drop(), 0x10, 0x30));
	expect_ok("o_value_only", udp4(), vd_verdict_with_mark(vd_verdict_repeat(), 9, 0xffffffff));
	expect_ok("o_empty", udp4(), vd_verdict_accept());
}

/* Runs the hook `f` of a fresh state (the error log is rate-limited per
 * state) returning ret, expects on_error, and returns what it logged. */
/* What the failure of hook f in text logged. */
static const char *failure_logged_by(const char *text)
{
	static char logged[1024];
	FILE *capture = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(capture);
	assert_true(saved >= 0);
	vd_lua_close(lua);
	open_text(text, NULL);
	fflush(stderr);
	dup2(fileno(capture), STDERR_FILENO);
	expect_failure("f", udp4());
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(capture);
	n = fread(logged, 1, sizeof(logged) - 1, capture);
	logged[n] = '\0';
	fclose(capture);
	return logged;
}

/* What a hook returning ret logged when it failed. */
static const char *failure_logged(const char *ret)
{
	char text[512];

	snprintf(text, sizeof(text), "return { f = function() return %s end }\n", ret);
	return failure_logged_by(text);
}

static void malformed(const char *ret, const char *want)
{
	const char *logged = failure_logged(ret);

	if (!strstr(logged, "rule \"f\": lua hook failed: ") || !strstr(logged, want))
		fail_msg("return %s: logged \"%s\", want \"%s\"", ret, logged, want);
}

static void test_malformed_options_give_on_error(void **state)
{
	(void)state;
	malformed("'queue'", "\"queue\" needs a queue number");
	malformed("QUEUE, nil", "\"queue\" needs a queue number");
	malformed("'queue', 65536", "queue number 65536 is out of range 0-65535");
	malformed("'queue', -1", "queue number -1 is out of range 0-65535");
	malformed("'queue', 1.5", "queue number is not a whole number");
	malformed("'queue', '3'", "queue number is not a whole number");
	malformed("'queue', { bypass = true }", "\"queue\" needs a queue number");
	malformed("'queue', { queue = 3, bypas = true }", "unknown option \"bypas\"");
	malformed("'queue', { queue = 3, bypass = 1 }", "option \"bypass\" is not true or false");
	malformed("'queue', { queue = 70000 }", "queue number 70000 is out of range 0-65535");
	malformed("'accept', { queue = 3 }", "option \"queue\" is for the \"queue\" verdict only");
	malformed("'repeat', { bypass = true }", "option \"bypass\" is not for \"repeat\"");
	malformed("'accept', { mark = 'x' }", "mark is not a 32-bit number or { value = V, mask = M }");
	malformed("'accept', { mark = { value = 1, mask = 2, extra = 3 } }",
		  "unknown mark key \"extra\" (value, mask)");
	malformed("'accept', { value = 1, extra = 2 }", "unknown option \"extra\"");
	malformed("'accept', { value = 1, mark = 2 }", "mixes");
	malformed("'accept', { [1] = 2 }", "option keys must be names, not number");
	malformed("'forward'", "not a verdict (\"accept\", \"drop\", \"reject\", \"repeat\", \"queue\")");
}

/* A method read as a field or called with a dot: the log says to use a
 * colon. Other errors get no hint. */
static void test_method_hints(void **state)
{
	static const struct {
		const char *body, *want;
	} cases[] = {
		{ "return pkt.payload .. 'x'", "pkt:payload is a method: call it with a colon" },
		{ "return #pkt.payload > 3 and 'drop'", "pkt:payload is a method" },
		{ "return pkt.payload:sub(1, 2)", "pkt:payload is a method" },
		{ "return pkt.byte(1)", "pkt:byte is a method: call it with a colon, pkt:byte(...)" },
		{ "pkt.set_byte(1, 2) return 'accept'", "pkt:set_byte is a method" },
		{ "pkt.set_payload('x') return 'accept'", "pkt:set_payload is a method" },
	};
	char text[256];
	const char *logged;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "return { f = function(pkt) %s end }\n", cases[i].body);
		logged = failure_logged_by(text);
		if (!strstr(logged, "lua hook failed: ") || !strstr(logged, cases[i].want))
			fail_msg("%s: logged \"%s\", want \"%s\"", cases[i].body, logged,
				 cases[i].want);
	}
	logged = failure_logged_by("return { f = function(pkt) return pkt.ttl .. {} end }\n");
	if (strstr(logged, "is a method"))
		fail_msg("a hint for an error that is not a method's: %s", logged);
}

static void test_runtime_error_then_recovers(void **state)
{
	(void)state;
	open_text("local n = 0\n"
		  "return { f = function(pkt)\n"
		  "  n = n + 1\n"
		  "  if n == 2 then error('boom') end\n"
		  "  if n == 3 then error({}) end\n"
		  "  return 'accept', n\n"
		  "end }\n",
		  NULL);
	/* State persists across calls: n counts them. */
	expect_ok("f", udp4(), vd_verdict_with_mark(vd_verdict_accept(), 1, 0xffffffff));
	expect_failure("f", udp4());
	expect_failure("f", udp4());
	expect_ok("f", udp4(), vd_verdict_with_mark(vd_verdict_accept(), 4, 0xffffffff));
	assert_int_equal(vd_lua_errors(lua), 2);
}

static void test_instruction_budget(void **state)
{
	struct vd_lua_limits lim = { .instructions = 10000 };

	(void)state;
	open_text("return {\n"
		  "  spin = function() while true do end end,\n"
		  "  sneaky = function()\n"
		  "    while true do pcall(function() while true do end end) end\n"
		  "  end,\n"
		  "  short = function() local s = 0 for i = 1, 100 do s = s + i end return 'accept' end,\n"
		  "}\n",
		  &lim);
	expect_failure("spin", udp4());
	/* Catching the budget error with pcall does not buy more time. */
	expect_failure("sneaky", udp4());
	/* The budget is per call: a short hook runs fine after a blown one. */
	for (int i = 0; i < 200; i++)
		expect_ok("short", udp4(), vd_verdict_accept());
}

static void test_memory_cap(void **state)
{
	struct vd_lua_limits lim = { .memory_bytes = 1 << 20 };

	(void)state;
	open_text("local keep = {}\n"
		  "return {\n"
		  "  hog = function() keep[#keep + 1] = string.rep('x', 4 << 20) return 'accept' end,\n"
		  "  grow = function() for i = 1, 1e7 do keep[i] = i end return 'accept' end,\n"
		  "  free = function() keep = {} return 'accept' end,\n"
		  "}\n",
		  &lim);
	expect_failure("hog", udp4());
	assert_true(vd_lua_memory(lua) <= (size_t)1 << 20);
	expect_failure("grow", udp4());
	assert_true(vd_lua_memory(lua) <= (size_t)1 << 20);
	expect_ok("free", udp4(), vd_verdict_accept());
}

static void test_kept_packet_is_the_current_one(void **state)
{
	(void)state;
	open_text("local saved\n"
		  "return {\n"
		  "  keep = function(pkt) saved = pkt return 'accept' end,\n"
		  "  use = function(pkt) return saved == pkt and saved.dport == 99 and 'accept' end,\n"
		  "}\n",
		  NULL);
	struct vd_packet *p = udp4();

	expect_ok("keep", p, vd_verdict_accept());
	/* The object is reused: a kept pkt always shows the packet being judged. */
	p->dport = 99;
	expect_ok("use", p, vd_verdict_accept());
}

static void test_load_errors(void **state)
{
	const char *path;

	(void)state;
	lua = vd_lua_open(NULL, err, sizeof(err));
	assert_non_null(lua);

	path = vt_rules_write("return {\n  rules = { { name = 'x' }\n}\n");
	assert_int_equal(vd_lua_load_file(lua, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, ":4:")); /* Lua's line number: the end of the file */
	assert_non_null(strstr(err, "expected"));

	path = vt_rules_write("return 42\n");
	assert_int_equal(vd_lua_load_file(lua, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "must return a table"));

	path = vt_rules_write("error('nope')\n");
	assert_int_equal(vd_lua_load_file(lua, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nope"));

	path = vt_rules_write("while true do end\n");
	assert_int_equal(vd_lua_load_file(lua, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "instruction budget"));

	path = vt_rules_write("io.open('/etc/passwd')\nreturn {}\n");
	assert_int_equal(vd_lua_load_file(lua, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "io"));

	/* Bytecode: the signature byte ESC starts a binary chunk. */
	path = vt_rules_write("\033Lua\x54");
	assert_int_equal(vd_lua_load_file(lua, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "binary"));

	assert_int_equal(vd_lua_load_file(lua, "/nonexistent/rules.lua", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/rules.lua"));

	/* A good file after all that. */
	path = vt_rules_write("return { ok = true }\n");
	assert_int_equal(vd_lua_load_file(lua, path, err, sizeof(err)), 0);
}

static void test_ref_function_refuses_non_functions(void **state)
{
	lua_State *L;

	(void)state;
	open_text("return { x = 1 }\n", NULL);
	L = vd_lua_state(lua);
	lua_pushinteger(L, 1);
	assert_int_equal(vd_lua_ref_function(lua), -1);
	assert_int_equal(lua_gettop(L), 0);
	/* A bad ref in a call gives on_error too. */
	bool failed = false;
	struct vd_verdict v = vd_lua_call(lua, 9999, "r", udp4(), NULL, vd_verdict_drop(), &failed);
	assert_true(failed);
	assert_int_equal(v.kind, VD_VERDICT_DROP);
}

static void test_print_is_logged_not_fatal(void **state)
{
	(void)state;
	open_text("return { f = function(pkt) print('saw', pkt.dport, pkt) return 'accept' end }\n",
		  NULL);
	expect_ok("f", udp4(), vd_verdict_accept());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_sandbox_allows_only_safe_libraries, teardown),
		cmocka_unit_test_teardown(test_packet_fields, teardown),
		cmocka_unit_test_teardown(test_ipv6_and_tcp_fields, teardown),
		cmocka_unit_test_teardown(test_log_packet_fields, teardown),
		cmocka_unit_test_teardown(test_unknown_field_and_writes_are_errors, teardown),
		cmocka_unit_test_teardown(test_verdicts_and_marks, teardown),
		cmocka_unit_test_teardown(test_bad_returns_give_on_error, teardown),
		cmocka_unit_test_teardown(test_queue_and_options_returns, teardown),
		cmocka_unit_test_teardown(test_malformed_options_give_on_error, teardown),
		cmocka_unit_test_teardown(test_method_hints, teardown),
		cmocka_unit_test_teardown(test_runtime_error_then_recovers, teardown),
		cmocka_unit_test_teardown(test_instruction_budget, teardown),
		cmocka_unit_test_teardown(test_memory_cap, teardown),
		cmocka_unit_test_teardown(test_kept_packet_is_the_current_one, teardown),
		cmocka_unit_test_teardown(test_load_errors, teardown),
		cmocka_unit_test_teardown(test_ref_function_refuses_non_functions, teardown),
		cmocka_unit_test_teardown(test_print_is_logged_not_fatal, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
