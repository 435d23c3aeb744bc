/*
 * record_json.h - one packet as one line of JSON, for --log-json.
 *
 * Pure formatting: no I/O, no allocation, so that workers can format into
 * their own buffers on the hot path and write once per batch.
 */
#ifndef VD_RECORD_JSON_H
#define VD_RECORD_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <verdict/edit.h>
#include <verdict/packet.h>
#include <verdict/verdict.h>

/* What the packet view does not carry. */
struct vd_record_info {
	const char *rule;               /* the deciding rule, or NULL */
	const struct vd_verdict *verdict; /* queue packets only; NULL for logs */
	const char *indev, *outdev;     /* interface names, or NULL (then the index is written) */
	int64_t tag;                    /* a log hook's annotation (its mark), -1: none */
	const struct vd_packet_edit *edit; /* the packet's edit, or NULL: none */
};

/* Writes one JSON object and a newline into out (size bytes). Returns the
 * length, or 0 when it does not fit (nothing usable is written then). Keys:
 * ts (UTC, microseconds), source (queue/nflog/replay), queue or group,
 * prefix, hook, verdict, mark (with the verdict's new mark when it sets
 * one), rule, indev, outdev, uid, gid, family, src, dst, proto, sport, dport,
 * len, tcp_flags, icmp_type, icmp_code, ct_state, seq, seq_global,
 * parse_error, rewritten, rewrite, orig_len; keys without a value are left
 * out.
 *
 * A rewritten packet (vd_packet_edit_pending(info->edit)) is described as it
 * went on: its headers are read from info->edit->pkt (the view kept in step
 * with the edit), "len" is its new length, and three keys follow:
 * "rewritten":true, "rewrite" the edited fields in the rules file's names
 * (["ttl","dport"], in enum vd_edit_field order) and "orig_len" the length
 * it had before. An edit discarded (drop, a refused rewrite) is no rewrite:
 * the record has none of the three.
 *
 * Strings from outside (prefix, rule, interface names) are escaped: '"' and
 * '\' with a backslash, control characters and DEL as \u00XX. Valid UTF-8
 * is kept as it is; each byte of 0x80 or more that is not part of a valid
 * sequence (a lone continuation byte, a cut sequence, an overlong form, a
 * surrogate, above U+10FFFF) is written as \u00XX of its value, the byte
 * read as Latin-1. Every line is therefore valid UTF-8 JSON. */
size_t vd_record_json(char *out, size_t size, const struct vd_packet *pkt,
		      const struct vd_record_info *info);

#endif
