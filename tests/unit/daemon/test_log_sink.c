/* test_log_sink.c - the log outputs (engine/daemon/log_sink.c) through
 * per-worker writers: each writer's batch reaches the pcap and JSON files
 * whole and only when flushed, records bigger than the rest of a buffer,
 * and the interface name cache: names expire, missing interfaces are
 * remembered as missing. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "capture_fixture.h"
#include "log_sink.h"

static char json[160];

/* The JSON file's text (NUL-terminated, static). */
static const char *json_text(void)
{
	static char text[1 << 16];
	FILE *f = fopen(json, "r");
	size_t n;

	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return text;
}

/* The IP versions of the JSON lines in file order ("446"). */
static void expect_json_versions(const char *want)
{
	const char *l = json_text(), *end;
	char got[64];
	size_t n = 0;

	for (; (end = strchr(l, '\n')) && n < sizeof(got) - 1; l = end + 1)
		got[n++] = memmem(l, (size_t)(end - l), "\"family\":\"ipv6\"", 15) ? '6' : '4';
	got[n] = '\0';
	assert_string_equal(l, ""); /* no line left unfinished */
	assert_string_equal(got, want);
}

/* JSON lines that contain s. */
static int count_lines_with(const char *s)
{
	const char *l = json_text(), *end;
	int n = 0;

	for (; (end = strchr(l, '\n')); l = end + 1)
		n += memmem(l, (size_t)(end - l), s, strlen(s)) != NULL;
	return n;
}

static struct vd_log_sink *sink_open(void)
{
	struct vd_log_sink *s;

	snprintf(json, sizeof(json), "%s/t.json", dir);
	s = vd_log_sink_open(json, path, VD_PCAP_NFLOG, err, sizeof(err));
	assert_non_null(s);
	return s;
}

static off_t file_size(const char *file)
{
	struct stat st;

	assert_int_equal(stat(file, &st), 0);
	return st.st_size;
}

/* Two workers record in turn: nothing reaches the files before a flush, and
 * then each worker's batch lands whole, not one record of each in turn. */
static void test_each_batch_lands_whole_at_flush(void **state)
{
	struct vd_log_sink *s = sink_open();
	struct vd_log_writer *a = vd_log_writer_new(s), *b = vd_log_writer_new(s);
	struct vd_packet p4, p6;
	off_t header = file_size(path);
	uint64_t written, errors;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	view(&p4, b4, n4);
	view(&p6, b6, n6);
	for (int i = 0; i < 3; i++) {
		vd_log_writer_record(a, &p4, "a", NULL, -1, NULL);
		vd_log_writer_record(b, &p6, "b", NULL, -1, NULL);
	}
	assert_int_equal(file_size(path), header);
	assert_int_equal(file_size(json), 0);
	vd_log_writer_flush(a);
	vd_log_writer_flush(b);
	vd_log_sink_counts(s, &written, &errors);
	assert_int_equal(written, 12); /* 6 lines and 6 pcap records */
	assert_int_equal(errors, 0);
	expect_versions(path, "444666");
	expect_json_versions("444666");
	vd_log_writer_free(a);
	vd_log_writer_free(b);
	vd_log_sink_close(s);
}

/* Records near the pcap record limit: the writer's buffer fills within a
 * batch, goes out early, and every record stays whole. */
static void test_big_records_flush_early(void **state)
{
	enum { BIG = 60000, N = 10 };
	uint8_t *big = calloc(1, BIG);
	struct vd_log_sink *s;
	struct vd_log_writer *w;
	struct vd_capture *c;
	struct vd_packet p, q;
	uint64_t written, errors;
	int n = 0;

	(void)state;
	assert_non_null(big);
	s = vd_log_sink_open(NULL, path, VD_PCAP_NFLOG, err, sizeof(err));
	assert_non_null(s);
	w = vd_log_writer_new(s);
	assert_non_null(w);
	memcpy(big, b4, n4);
	vd_packet_view_init(&p, big, BIG, BIG);
	vd_packet_parse(&p);
	for (int i = 0; i < N; i++)
		vd_log_writer_record(w, &p, "big", NULL, -1, NULL);
	assert_true(file_size(path) > BIG); /* some went out before the flush */
	vd_log_writer_free(w);
	vd_log_sink_counts(s, &written, &errors);
	assert_int_equal(written, N);
	assert_int_equal(errors, 0);
	vd_log_sink_close(s);
	c = reader(path);
	while (next(c, &q) == 1) {
		assert_int_equal(q.caplen, BIG);
		assert_memory_equal(q.data, big, BIG);
		n++;
	}
	assert_int_equal(n, N);
	assert_int_equal(vd_capture_skipped(c), 0);
	vd_capture_close(c);
	free(big);
}

/* A rewritten packet is recorded as it went on: the pcap record holds the
 * edited bytes at their new length, the JSON line says rewritten; with the
 * edit discarded, the original view's bytes and no rewrite. */
static void test_rewritten_packet_is_recorded_rewritten(void **state)
{
	static const uint8_t more[6] = "abcdef";
	static uint8_t buf[VD_EDIT_MAX_LEN];
	struct vd_log_sink *s = sink_open();
	struct vd_log_writer *w = vd_log_writer_new(s);
	struct vd_packet orig, p, q;
	struct vd_packet_edit edit;
	struct vd_capture *c;

	(void)state;
	assert_non_null(w);
	view(&orig, b4, n4);
	memcpy(buf, b4, n4);
	view(&p, buf, n4);
	assert_int_equal(vd_packet_edit_init(&edit, &p, buf, sizeof(buf), 0), 0);
	assert_int_equal(vd_packet_edit_set_ttl(&edit, 9), 0);
	assert_int_equal(vd_packet_edit_replace_payload(&edit, 0, 0, more, sizeof(more)), 0);
	vd_log_writer_record(w, &orig, "rw", NULL, -1, &edit);
	vd_packet_edit_discard(&edit);
	vd_log_writer_record(w, &orig, "rw", NULL, -1, &edit);
	vd_log_writer_free(w);
	vd_log_sink_close(s);

	c = reader(path);
	assert_int_equal(next(c, &q), 1);
	assert_int_equal(q.caplen, n4 + sizeof(more));
	assert_int_equal(q.len, n4 + sizeof(more));
	assert_memory_equal(q.data, buf, n4 + sizeof(more));
	assert_int_equal(q.ttl, 9);
	assert_int_equal(next(c, &q), 1);
	assert_int_equal(q.caplen, n4);
	assert_memory_equal(q.data, b4, n4);
	assert_int_equal(next(c, &q), 0);
	vd_capture_close(c);
	assert_int_equal(count_lines_with("\"rewritten\":true,\"rewrite\":[\"ttl\",\"payload\"]"), 1);
	assert_int_equal(count_lines_with("\"rewrit"), 1);
}

/* A fake system: names by index, a clock the test moves, lookups counted. */
struct fake {
	const char *names[8];
	uint64_t now;
	unsigned lookups[8];
};

static char *fake_lookup(unsigned index, char *name, void *user)
{
	struct fake *f = user;

	assert_true(index < 8);
	f->lookups[index]++;
	if (!f->names[index])
		return NULL;
	snprintf(name, IF_NAMESIZE, "%s", f->names[index]);
	return name;
}

static uint64_t fake_now(void *user)
{
	return ((struct fake *)user)->now;
}

/* One JSON record for a packet from interface index; the JSON file's last
 * line afterwards. */
static const char *record_from(struct vd_log_writer *w, unsigned index, bool flush)
{
	static char last[2048];
	struct vd_packet p;
	const char *t, *l;

	view(&p, b4, n4);
	p.source = VD_SOURCE_NFLOG;
	p.meta |= VD_META_INDEV;
	p.indev = index;
	vd_log_writer_record(w, &p, NULL, NULL, -1, NULL);
	if (!flush)
		return NULL;
	vd_log_writer_flush(w);
	t = json_text();
	l = t + strlen(t) - 1;
	while (l > t && l[-1] != '\n')
		l--;
	snprintf(last, sizeof(last), "%s", l);
	return last;
}

/* A writer on a new sink that takes names and time from f. */
static struct vd_log_writer *fake_writer(struct vd_log_sink **s, struct fake *f)
{
	struct vd_log_ifnames src = { fake_lookup, fake_now, f };
	struct vd_log_writer *w;

	*s = sink_open();
	w = vd_log_writer_new(*s);
	assert_non_null(w);
	vd_log_writer_set_ifnames(w, &src);
	return w;
}

/* A renamed interface: the old name until the entry is a second old, read
 * with one lookup; the new name after. The clock is read once per batch. */
static void test_interface_names_expire(void **state)
{
	struct fake f = { .names = { [3] = "eth-old" }, .now = 5000000000ull };
	struct vd_log_sink *s;
	struct vd_log_writer *w = fake_writer(&s, &f);

	(void)state;
	assert_non_null(strstr(record_from(w, 3, true), "\"indev\":\"eth-old\""));
	f.names[3] = "eth-new"; /* renamed */
	f.now += VD_LOG_IFNAME_TTL_NS / 2;
	assert_non_null(strstr(record_from(w, 3, true), "\"indev\":\"eth-old\""));
	assert_int_equal(f.lookups[3], 1);
	/* Within a batch the clock is not read again: the entry still serves. */
	record_from(w, 3, false);
	f.now += VD_LOG_IFNAME_TTL_NS;
	assert_non_null(strstr(record_from(w, 3, true), "\"indev\":\"eth-old\""));
	assert_int_equal(f.lookups[3], 1);
	/* The next batch reads the clock: expired, looked up again. */
	assert_non_null(strstr(record_from(w, 3, true), "\"indev\":\"eth-new\""));
	assert_int_equal(f.lookups[3], 2);
	vd_log_writer_free(w);
	vd_log_sink_close(s);
}

/* An index with no interface: the index is written, and it is looked up
 * once per expiry, not once per packet; when it appears, its name shows. */
static void test_missing_interface_is_remembered(void **state)
{
	struct fake f = { .now = 1 };
	struct vd_log_sink *s;
	struct vd_log_writer *w = fake_writer(&s, &f);

	(void)state;
	for (int i = 0; i < 100; i++)
		assert_non_null(strstr(record_from(w, 5, true), "\"indev\":5,"));
	assert_int_equal(f.lookups[5], 1);
	f.names[5] = "late0";
	f.now += VD_LOG_IFNAME_TTL_NS;
	assert_non_null(strstr(record_from(w, 5, true), "\"indev\":\"late0\""));
	assert_int_equal(f.lookups[5], 2);
	vd_log_writer_free(w);
	vd_log_sink_close(s);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_each_batch_lands_whole_at_flush),
		T(test_big_records_flush_early),
		T(test_rewritten_packet_is_recorded_rewritten),
		T(test_interface_names_expire),
		T(test_missing_interface_is_remembered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
