/* rules_fixture.h - write a rules file from text and load it, for the rule
 * table tests. */
#ifndef VD_TEST_RULES_FIXTURE_H
#define VD_TEST_RULES_FIXTURE_H

#include <stdint.h>

#include <verdict/packet.h>

#include "ruleset.h"

/* Writes text to a fresh temporary rules.lua; returns its path (static). */
const char *vt_rules_write(const char *text);

/* Loads text as a rules file with one worker; NULL with the message in err. */
struct vd_ruleset *vt_rules_load(const char *text, char *err, size_t errlen);

/* Loading text must fail with exactly "PATH: want" (one line naming the
 * file, the rule and the key); fails the test otherwise. */
void vt_rules_refused_exactly(const char *text, const char *want);

/* The --check summary of text, which must load; the caller frees it. */
char *vt_rules_summary(const char *text);

/* text loads and its --check summary contains want. */
void vt_rules_summary_has(const char *text, const char *want);

/* A parsed IPv4 (version 4) or IPv6 (6) packet in a static buffer. */
struct vt_packet_spec {
	int version;
	uint8_t proto;
	const char *src, *dst;
	uint16_t sport, dport;
	uint8_t tcp_flags, icmp_type, icmp_code;
	const void *payload;
	size_t payload_len;
};
struct vd_packet *vt_packet(const struct vt_packet_spec *s);

#endif
