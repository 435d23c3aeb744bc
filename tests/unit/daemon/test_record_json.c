/* test_record_json.c - one packet as one JSON line (engine/record_json.c):
 * every key, escaping of outside strings (control characters, quote,
 * backslash, DEL, UTF-8 kept, bytes outside UTF-8 escaped), a buffer too
 * small, and a rewritten packet (rewritten, rewrite, len and orig_len). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "helpers.h"
#include "record_json.h"

static char line[2048];

static struct vd_packet *tcp4(void)
{
	static uint8_t buf[VT_PACKET_MAX];
	static struct vd_packet pkt;
	struct vt_l4 l4 = { .proto = IPPROTO_TCP, .sport = 40000, .dport = 443,
			    .tcp_flags = VD_TCP_SYN | VD_TCP_ACK };
	size_t n = vt_ipv4_build(buf, sizeof(buf),
				 &(struct vt_ipv4){ .src = "198.18.0.1", .dst = "198.19.0.2" }, &l4);

	assert_int_equal(vt_parse(&pkt, buf, n, n), VD_PARSE_OK);
	pkt.meta |= VD_META_TIMESTAMP;
	pkt.timestamp_ns = 1795000000123456789ull; /* 2026-11-18T...Z */
	return &pkt;
}

static void expect(const char *want)
{
	if (!strstr(line, want))
		fail_msg("\"%s\" lacks \"%s\"", line, want);
}

static void test_queue_packet_with_verdict(void **state)
{
	struct vd_packet *p = tcp4();
	struct vd_verdict v = vd_verdict_with_mark(vd_verdict_accept(), 0x10, 0xf0);
	struct vd_record_info info = { .rule = "web", .verdict = &v, .indev = "veth0", .tag = -1 };
	size_t n;

	(void)state;
	p->queue = 3;
	p->hook = 1;
	p->meta |= VD_META_MARK | VD_META_UID | VD_META_OUTDEV | VD_META_CT;
	p->mark = 0x101;
	p->uid = 1000;
	p->outdev = 7;
	p->ct_state = VD_CT_NEW;
	n = vd_record_json(line, sizeof(line), p, &info);
	assert_int_equal(n, strlen(line));
	assert_int_equal(line[n - 1], '\n');
	assert_ptr_equal(strchr(line, '\n'), line + n - 1); /* one line */
	expect("{\"ts\":\"2026-11-18T");
	expect(".123456Z\"");
	expect("\"source\":\"queue\",\"queue\":3");
	expect("\"hook\":\"input\"");
	expect("\"verdict\":\"accept\"");
	expect("\"rule\":\"web\"");
	expect("\"mark\":257");
	expect("\"new_mark\":273"); /* (0x101 & ~0xf0) | 0x10 */
	expect("\"indev\":\"veth0\"");
	expect("\"outdev\":7");
	expect("\"uid\":1000");
	expect("\"family\":\"ipv4\",\"src\":\"198.18.0.1\",\"dst\":\"198.19.0.2\",\"proto\":\"tcp\"");
	expect("\"sport\":40000,\"dport\":443,\"tcp_flags\":\"syn,ack\"");
	expect("\"ct_state\":\"new\"");
	assert_null(strstr(line, "\"tag\""));
	assert_null(strstr(line, "\"seq\""));
}

static void test_log_packet_escapes_prefix(void **state)
{
	struct vd_packet *p = tcp4();
	struct vd_record_info info = { .tag = 42 };

	(void)state;
	p->source = VD_SOURCE_NFLOG;
	p->queue = 5;
	p->meta |= VD_META_PREFIX | VD_META_SEQ | VD_META_SEQ_GLOBAL;
	p->prefix = "a\"b\\c\n\x01";
	p->seq = 9;
	p->seq_global = 11;
	assert_true(vd_record_json(line, sizeof(line), p, &info) > 0);
	expect("\"source\":\"nflog\",\"group\":5");
	expect("\"prefix\":\"a\\\"b\\\\c\\u000a\\u0001\"");
	expect("\"seq\":9,\"seq_global\":11");
	expect("\"tag\":42");
	assert_null(strstr(line, "\"verdict\""));
}

/* A strict UTF-8 check written apart from the formatter's: decodes each
 * sequence and refuses overlong forms, surrogates and values above
 * U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp, min;
		size_t len;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0)
			len = 2, cp = s[i] & 0x1f, min = 0x80;
		else if ((s[i] & 0xf0) == 0xe0)
			len = 3, cp = s[i] & 0x0f, min = 0x800;
		else if ((s[i] & 0xf8) == 0xf0)
			len = 4, cp = s[i] & 0x07, min = 0x10000;
		else
			return false;
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* Formats an NFLOG packet with this prefix, checks that the line is one line
 * of valid UTF-8 without raw control characters, and that the prefix came
 * out as want. */
static void expect_prefix(const char *prefix, const char *want)
{
	struct vd_packet *p = tcp4();
	char full[2048];
	size_t n;

	p->source = VD_SOURCE_NFLOG;
	p->meta |= VD_META_PREFIX;
	p->prefix = prefix;
	n = vd_record_json(line, sizeof(line), p, NULL);
	assert_true(n > 0);
	if (!utf8_valid((const unsigned char *)line, n))
		fail_msg("not valid UTF-8: %s", line);
	for (size_t i = 0; i + 1 < n; i++)
		if ((unsigned char)line[i] < 0x20)
			fail_msg("raw control character 0x%02x at %zu: %s", line[i], i, line);
	snprintf(full, sizeof(full), "\"prefix\":\"%s\",\"hook\"", want);
	expect(full);
}

static void test_escapes_control_quote_backslash_del(void **state)
{
	char in[2], want[8];

	(void)state;
	for (int c = 1; c < 0x20; c++) {
		in[0] = (char)c, in[1] = '\0';
		snprintf(want, sizeof(want), "\\u%04x", c);
		expect_prefix(in, want);
	}
	expect_prefix("\x7f", "\\u007f");
	expect_prefix("say \"hi\"", "say \\\"hi\\\"");
	expect_prefix("C:\\dir", "C:\\\\dir");
	expect_prefix("plain text 123 ~!@#$%^&*()", "plain text 123 ~!@#$%^&*()");
}

static void test_valid_utf8_is_kept(void **state)
{
	static const char *const kept[] = {
		"caf\xc3\xa9",            /* U+00E9, two bytes */
		"\xc2\x80\xdf\xbf",        /* the two-byte ends */
		"\xe0\xa0\x80 \xe2\x82\xac \xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf", /* U+0800, euro,
		                           * below and above the surrogates, U+FFFF */
		"\xf0\x90\x80\x80 \xf0\x9d\x84\x9e \xf4\x8f\xbf\xbf", /* U+10000, U+1D11E, U+10FFFF */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		expect_prefix(kept[i], kept[i]);
}

static void test_bytes_outside_utf8_are_escaped(void **state)
{
	static const char *const cases[][2] = {
		{ "a\x80" "b", "a\\u0080b" },                       /* lone continuation */
		{ "\xbf", "\\u00bf" },
		{ "\xe2\x82", "\\u00e2\\u0082" },                /* cut at the end */
		{ "\xe2\x82X", "\\u00e2\\u0082X" },              /* cut by ASCII */
		{ "\xf0\x9d\x84", "\\u00f0\\u009d\\u0084" },
		{ "\xc3\xc3\xa9", "\\u00c3\xc3\xa9" },            /* a lead byte, then a whole sequence */
		{ "\xc0\xaf", "\\u00c0\\u00af" },                /* overlong '/' */
		{ "\xc1\xbf", "\\u00c1\\u00bf" },
		{ "\xe0\x80\xaf", "\\u00e0\\u0080\\u00af" },     /* overlong, three bytes */
		{ "\xf0\x80\x80\xaf", "\\u00f0\\u0080\\u0080\\u00af" },
		{ "\xed\xa0\x80", "\\u00ed\\u00a0\\u0080" },     /* surrogate U+D800 */
		{ "\xed\xbf\xbf", "\\u00ed\\u00bf\\u00bf" },     /* surrogate U+DFFF */
		{ "\xf4\x90\x80\x80", "\\u00f4\\u0090\\u0080\\u0080" }, /* above U+10FFFF */
		{ "\xf5\xfe\xff", "\\u00f5\\u00fe\\u00ff" },
		{ "Latin-1 caf\xe9", "Latin-1 caf\\u00e9" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_prefix(cases[i][0], cases[i][1]);
}

/* Every byte value at once, and a sequence cut by the field's length limit
 * (16 bytes for an interface name): each line stays valid UTF-8. */
static void test_every_byte_and_cut_sequences_stay_utf8(void **state)
{
	struct vd_record_info info = { .tag = -1, .indev = "aaaaaaaaaaaaaaa\xc3\xa9" };
	char all[256], want[256 * 6 + 1];
	size_t n, len = 0;

	(void)state;
	/* No two neighbours of 0x80-0xff make a valid sequence: all escaped. */
	for (int c = 1; c < 256; c++) {
		all[c - 1] = (char)c;
		if (c < 0x20 || c >= 0x7f)
			len += (size_t)sprintf(want + len, "\\u%04x", c);
		else if (c == '"' || c == '\\')
			len += (size_t)sprintf(want + len, "\\%c", c);
		else
			want[len++] = (char)c;
	}
	all[255] = '\0';
	want[len] = '\0';
	expect_prefix(all, want);
	n = vd_record_json(line, sizeof(line), tcp4(), &info);
	assert_true(n > 0);
	assert_true(utf8_valid((const unsigned char *)line, n));
	expect("\"indev\":\"aaaaaaaaaaaaaaa\\u00c3\"");
}

static void test_buffer_too_small(void **state)
{
	(void)state;
	assert_int_equal(vd_record_json(line, 40, tcp4(), NULL), 0);
}

static void test_no_ip_header(void **state)
{
	static const uint8_t junk[] = { 0x00, 0x01, 0x02 };
	struct vd_packet p;

	(void)state;
	vt_parse(&p, junk, sizeof(junk), sizeof(junk));
	assert_true(vd_record_json(line, sizeof(line), &p, NULL) > 0);
	expect("\"len\":3");
	expect("\"parse_error\":");
	assert_null(strstr(line, "\"src\""));
}

/* A UDP packet in a buffer of its own with room to grow, opened for an
 * edit: ttl and dport set, 4 payload bytes added. */
struct rewrite {
	uint8_t buf[VD_EDIT_MAX_LEN];
	struct vd_packet pkt, orig;
	struct vd_packet_edit edit;
	uint32_t orig_len;
};

static void rewrite_make(struct rewrite *rw)
{
	static const uint8_t more[4] = { 1, 2, 3, 4 };
	struct vt_l4 l4 = { .proto = IPPROTO_UDP, .sport = 40000, .dport = 53, .payload_len = 10 };
	size_t n = vt_ipv6_build(rw->buf, sizeof(rw->buf),
				 &(struct vt_ipv6){ .src = "2001:db8::1", .dst = "2001:db8::2" }, &l4);

	assert_int_equal(vt_parse(&rw->pkt, rw->buf, n, n), VD_PARSE_OK);
	rw->pkt.meta |= VD_META_TIMESTAMP;
	rw->orig = rw->pkt;
	rw->orig_len = (uint32_t)n;
	assert_int_equal(vd_packet_edit_init(&rw->edit, &rw->pkt, rw->buf, sizeof(rw->buf), 0), 0);
	assert_int_equal(vd_packet_edit_set_ttl(&rw->edit, 9), 0);
	assert_int_equal(vd_packet_edit_set_dport(&rw->edit, 5353), 0);
	assert_int_equal(vd_packet_edit_replace_payload(&rw->edit, 10, 10, more, sizeof(more)), 0);
	assert_int_equal(rw->edit.len, n + 4);
}

static void test_rewritten_packet(void **state)
{
	static struct rewrite rw;
	struct vd_record_info info = { .tag = -1, .edit = &rw.edit };
	char want[128];

	(void)state;
	rewrite_make(&rw);
	assert_true(vd_record_json(line, sizeof(line), &rw.pkt, &info) > 0);
	expect("\"family\":\"ipv6\",\"src\":\"2001:db8::1\",\"dst\":\"2001:db8::2\"");
	expect("\"sport\":40000,\"dport\":5353");
	snprintf(want, sizeof(want), "\"len\":%u,", rw.orig_len + 4);
	expect(want);
	snprintf(want, sizeof(want),
		 ",\"rewritten\":true,\"rewrite\":[\"ttl\",\"dport\",\"payload\"],\"orig_len\":%u}\n",
		 rw.orig_len);
	expect(want);

	/* Given the view of the original with the edit, the line still
	 * describes the packet as it went on: edit->pkt. */
	assert_true(vd_record_json(line, sizeof(line), &rw.orig, &info) > 0);
	expect("\"dport\":5353");
	snprintf(want, sizeof(want), "\"len\":%u,", rw.orig_len + 4);
	expect(want);
}

static void test_discarded_or_empty_edit_is_no_rewrite(void **state)
{
	static struct rewrite rw;
	struct vd_record_info info = { .tag = -1, .edit = &rw.edit };
	struct vd_packet_edit none;
	char want[64];

	(void)state;
	rewrite_make(&rw);
	vd_packet_edit_discard(&rw.edit);
	assert_true(vd_record_json(line, sizeof(line), &rw.orig, &info) > 0);
	assert_null(strstr(line, "rewrit"));
	assert_null(strstr(line, "orig_len"));
	expect("\"dport\":53,");
	snprintf(want, sizeof(want), "\"len\":%u}", rw.orig_len);
	expect(want);

	/* Prepared, nothing edited. */
	vd_packet_edit_prepare(&none, &rw.orig, rw.buf, sizeof(rw.buf), 0);
	info.edit = &none;
	assert_true(vd_record_json(line, sizeof(line), &rw.orig, &info) > 0);
	assert_null(strstr(line, "rewrit"));
}

static void test_rewrite_lists_every_field(void **state)
{
	static struct rewrite rw;
	struct vd_record_info info = { .tag = -1, .edit = &rw.edit };
	char want[512] = ",\"rewrite\":[";
	size_t n;

	(void)state;
	rewrite_make(&rw);
	rw.edit.fields = (1u << VD_EDIT_FIELD_COUNT) - 1;
	for (unsigned b = 0; b < VD_EDIT_FIELD_COUNT; b++) {
		assert_non_null(vd_packet_edit_field_name(b));
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s\"%s\"", b ? "," : "",
			 vd_packet_edit_field_name(b));
	}
	strcat(want, "],");
	n = vd_record_json(line, sizeof(line), &rw.pkt, &info);
	assert_true(n > 0);
	expect(want);
	/* A buffer one byte short of the line and its NUL: nothing, not a cut
	 * line; exactly enough: the whole line. */
	assert_int_equal(vd_record_json(line, n, &rw.pkt, &info), 0);
	assert_int_equal(vd_record_json(line, n + 1, &rw.pkt, &info), n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_packet_with_verdict),
		cmocka_unit_test(test_log_packet_escapes_prefix),
		cmocka_unit_test(test_escapes_control_quote_backslash_del),
		cmocka_unit_test(test_valid_utf8_is_kept),
		cmocka_unit_test(test_bytes_outside_utf8_are_escaped),
		cmocka_unit_test(test_every_byte_and_cut_sequences_stay_utf8),
		cmocka_unit_test(test_buffer_too_small),
		cmocka_unit_test(test_no_ip_header),
		cmocka_unit_test(test_rewritten_packet),
		cmocka_unit_test(test_discarded_or_empty_edit_is_no_rewrite),
		cmocka_unit_test(test_rewrite_lists_every_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
