/* rules_fixture.c - temporary rules files and packets for rule table tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"
#include "rules_fixture.h"

const char *vt_rules_write(const char *text)
{
	static char dir[64], path[96];
	FILE *f;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/vd-rules-test.XXXXXX");
		assert_non_null(mkdtemp(dir));
	}
	snprintf(path, sizeof(path), "%s/rules.lua", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

struct vd_ruleset *vt_rules_load(const char *text, char *err, size_t errlen)
{
	struct vd_ruleset_options opt = { .nworkers = 1 };

	err[0] = '\0';
	return vd_ruleset_load(vt_rules_write(text), &opt, err, errlen);
}

void vt_rules_refused_exactly(const char *text, const char *want)
{
	char err[512], full[600];
	struct vd_ruleset *rs = vt_rules_load(text, err, sizeof(err));

	if (rs) {
		vd_ruleset_free(rs);
		fail_msg("loaded, but should fail with \"%s\":\n%s", want, text);
	}
	snprintf(full, sizeof(full), "%s: %s", vt_rules_write(text), want);
	if (strcmp(err, full) != 0)
		fail_msg("error\n  \"%s\"\nis not\n  \"%s\"", err, full);
}

char *vt_rules_summary(const char *text)
{
	char err[512], *summary = NULL;
	size_t len = 0;
	FILE *out;
	struct vd_ruleset *rs = vt_rules_load(text, err, sizeof(err));

	if (!rs)
		fail_msg("refused: %s\n%s", err, text);
	out = open_memstream(&summary, &len);
	assert_non_null(out);
	vd_ruleset_summary(rs, false, out);
	fclose(out);
	vd_ruleset_free(rs);
	return summary;
}

void vt_rules_summary_has(const char *text, const char *want)
{
	char *summary = vt_rules_summary(text);

	if (!strstr(summary, want))
		fail_msg("summary does not contain \"%s\":\n%s", want, summary);
	free(summary);
}

struct vd_packet *vt_packet(const struct vt_packet_spec *s)
{
	static uint8_t buf[VT_PACKET_MAX];
	static struct vd_packet pkt;
	struct vt_l4 l4 = { .proto = s->proto, .sport = s->sport, .dport = s->dport,
			    .tcp_flags = s->tcp_flags, .icmp_type = s->icmp_type,
			    .icmp_code = s->icmp_code, .payload = s->payload,
			    .payload_len = s->payload_len };
	size_t n;

	if (s->version == 6) {
		struct vt_ipv6 ip = { .src = s->src, .dst = s->dst };
		n = vt_ipv6_build(buf, sizeof(buf), &ip, &l4);
	} else {
		struct vt_ipv4 ip = { .src = s->src, .dst = s->dst };
		n = vt_ipv4_build(buf, sizeof(buf), &ip, &l4);
	}
	vt_parse(&pkt, buf, n, n);
	return &pkt;
}
