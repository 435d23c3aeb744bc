/*
 * record_json.c - format a packet view as one JSON line (record_json.h).
 *
 * Strings that come from outside (prefix, rule and interface names) are
 * escaped, and bytes that are not UTF-8 among them too (see put_string):
 * everything else is numbers or fixed words, so each line is valid UTF-8.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "record_json.h"

struct out {
	char *p;
	size_t size, len;
	int overflow;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->overflow = 1;
	else
		o->len += (size_t)n;
}

static void put_bytes(struct out *o, const char *b, size_t n)
{
	if (o->overflow || n >= o->size - o->len) {
		o->overflow = 1;
		return;
	}
	memcpy(o->p + o->len, b, n);
	o->len += n;
}

/* The length of the well-formed UTF-8 sequence at s (at most n bytes), 0
 * when there is none (RFC 3629 table 3-7: no overlong forms, no surrogates,
 * nothing above U+10FFFF). Stops at the first byte that does not fit, so it
 * never reads past a NUL. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		lo = s[0] == 0xe0 ? 0xa0 : lo; /* overlong */
		hi = s[0] == 0xed ? 0x9f : hi; /* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		lo = s[0] == 0xf0 ? 0x90 : lo; /* overlong */
		hi = s[0] == 0xf4 ? 0x8f : hi; /* above U+10FFFF */
	} else {
		return 0; /* ASCII, a lone continuation byte, 0xc0, 0xc1, 0xf5-0xff */
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* ,"key":"value" with JSON escaping; s is read up to max bytes or a NUL.
 * Runs of plain bytes are copied at once and escapes are built by hand: no
 * printf per character. Valid UTF-8 is kept; any other byte of 0x80 or more
 * becomes \u00XX, the byte read as Latin-1, so that every line is valid
 * UTF-8 and strict parsers accept it. */
static void put_string(struct out *o, const char *key, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	put_bytes(o, ",\"", 2);
	put_bytes(o, key, strlen(key));
	put_bytes(o, "\":\"", 3);
	while (i < max && u[i] && !o->overflow) {
		size_t run = i, n;

		while (run < max && u[run] >= 0x20 && u[run] < 0x7f && u[run] != '"' &&
		       u[run] != '\\')
			run++;
		if (run > i) {
			put_bytes(o, s + i, run - i);
			i = run;
		} else if (u[i] == '"' || u[i] == '\\') {
			char e[2] = { '\\', (char)u[i] };

			put_bytes(o, e, sizeof(e));
			i++;
		} else if (u[i] >= 0x80 && (n = utf8_len(u + i, max - i)) > 0) {
			put_bytes(o, s + i, n);
			i += n;
		} else { /* a control character, DEL or a byte outside UTF-8 */
			char e[6] = { '\\', 'u', '0', '0', hex[u[i] >> 4], hex[u[i] & 15] };

			put_bytes(o, e, sizeof(e));
			i++;
		}
	}
	put_bytes(o, "\"", 1);
}

static const char *hook_name(uint8_t hook)
{
	static const char *const names[] = { "prerouting", "input", "forward", "output",
					     "postrouting" };

	return hook < 5 ? names[hook] : NULL;
}

static const char *ct_name(uint32_t ct)
{
	switch (ct) {
	case VD_CT_ESTABLISHED: return "established";
	case VD_CT_RELATED: return "related";
	case VD_CT_NEW: return "new";
	case VD_CT_ESTABLISHED_REPLY: return "established-reply";
	case VD_CT_RELATED_REPLY: return "related-reply";
	case VD_CT_UNTRACKED: return "untracked";
	default: return "invalid";
	}
}

/* Packets come many per second: the date and time part is formatted once a
 * second per thread, not per packet (gmtime_r and strftime are not cheap). */
static void put_time(struct out *o, const struct vd_packet *pkt)
{
	static __thread time_t cached_sec = -1;
	static __thread char day[32];
	struct timespec ts;
	uint64_t ns;
	time_t sec;

	if (pkt->meta & VD_META_TIMESTAMP) {
		ns = pkt->timestamp_ns;
	} else {
		clock_gettime(CLOCK_REALTIME, &ts); /* vDSO */
		ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	}
	sec = (time_t)(ns / 1000000000u);
	if (sec != cached_sec) {
		struct tm tm;

		gmtime_r(&sec, &tm);
		strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = sec;
	}
	put(o, "{\"ts\":\"%s.%06uZ\"", day, (unsigned)(ns % 1000000000u / 1000u));
}

static void put_source(struct out *o, const struct vd_packet *pkt)
{
	switch (pkt->source) {
	case VD_SOURCE_NFLOG:
		put(o, ",\"source\":\"nflog\",\"group\":%u", pkt->queue);
		break;
	case VD_SOURCE_REPLAY:
		put(o, ",\"source\":\"replay\"");
		break;
	default:
		put(o, ",\"source\":\"queue\",\"queue\":%u", pkt->queue);
	}
	if ((pkt->meta & VD_META_PREFIX) && pkt->prefix)
		put_string(o, "prefix", pkt->prefix, 256);
	if (hook_name(pkt->hook) && pkt->source != VD_SOURCE_REPLAY)
		put(o, ",\"hook\":\"%s\"", hook_name(pkt->hook));
}

static void put_decision(struct out *o, const struct vd_packet *pkt,
			 const struct vd_record_info *info)
{
	const struct vd_verdict *v = info ? info->verdict : NULL;

	if (v)
		put(o, ",\"verdict\":\"%s\"", vd_verdict_kind_name(v->kind));
	if (v && v->kind == VD_VERDICT_QUEUE)
		put(o, ",\"to_queue\":%u", v->queue);
	if (info && info->rule)
		put_string(o, "rule", info->rule, 256);
	if (info && info->tag >= 0)
		put(o, ",\"tag\":%u", (unsigned)info->tag);
	if (pkt->meta & VD_META_MARK)
		put(o, ",\"mark\":%u", pkt->mark);
	if (v && (v->flags & VD_VERDICT_F_MARK))
		put(o, ",\"new_mark\":%u", ((pkt->meta & VD_META_MARK ? pkt->mark : 0) & ~v->mark_mask) |
						   (v->mark & v->mark_mask));
}

static void put_devices(struct out *o, const struct vd_packet *pkt,
			const struct vd_record_info *info)
{
	if (info && info->indev)
		put_string(o, "indev", info->indev, 16);
	else if (pkt->meta & VD_META_INDEV)
		put(o, ",\"indev\":%u", pkt->indev);
	if (info && info->outdev)
		put_string(o, "outdev", info->outdev, 16);
	else if (pkt->meta & VD_META_OUTDEV)
		put(o, ",\"outdev\":%u", pkt->outdev);
	if (pkt->meta & VD_META_UID)
		put(o, ",\"uid\":%u", pkt->uid);
	if (pkt->meta & VD_META_GID)
		put(o, ",\"gid\":%u", pkt->gid);
}

static void put_tcp_flags(struct out *o, uint8_t flags)
{
	const char *sep = "";

	put(o, ",\"tcp_flags\":\"");
	for (int b = 0; b < 8; b++)
		if (flags & (1u << b)) {
			put(o, "%s%s", sep, vd_tcp_flag_name((unsigned)b));
			sep = ",";
		}
	put(o, "\"");
}

static void put_headers(struct out *o, const struct vd_packet *pkt)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	const char *proto = vd_proto_name(pkt->l4_proto);

	if (!pkt->ip_version)
		return;
	put(o, ",\"family\":\"ipv%u\",\"src\":\"%s\",\"dst\":\"%s\"", pkt->ip_version,
	    vd_packet_src_str(pkt, src, sizeof(src)), vd_packet_dst_str(pkt, dst, sizeof(dst)));
	if (proto)
		put(o, ",\"proto\":\"%s\"", proto);
	else
		put(o, ",\"proto\":%u", pkt->l4_proto);
	if (vd_packet_has_l4(pkt)) {
		if (pkt->l4_proto == IPPROTO_ICMP || pkt->l4_proto == IPPROTO_ICMPV6)
			put(o, ",\"icmp_type\":%u,\"icmp_code\":%u", pkt->icmp_type, pkt->icmp_code);
		else
			put(o, ",\"sport\":%u,\"dport\":%u", pkt->sport, pkt->dport);
		if (pkt->l4_proto == IPPROTO_TCP)
			put_tcp_flags(o, pkt->tcp_flags);
	}
}

/* ,"rewritten":true,"rewrite":["ttl",...],"orig_len":N */
static void put_rewrite(struct out *o, const struct vd_packet_edit *edit)
{
	const char *sep = "";

	put(o, ",\"rewritten\":true,\"rewrite\":[");
	for (unsigned b = 0; b < VD_EDIT_FIELD_COUNT; b++)
		if ((edit->fields & (1u << b)) && vd_packet_edit_field_name(b)) {
			put(o, "%s\"%s\"", sep, vd_packet_edit_field_name(b));
			sep = ",";
		}
	put(o, "],\"orig_len\":%u", edit->orig_len);
}

size_t vd_record_json(char *out, size_t size, const struct vd_packet *pkt,
		      const struct vd_record_info *info)
{
	struct out o = { out, size, 0, 0 };
	const struct vd_packet_edit *edit = info ? info->edit : NULL;
	bool rewritten = vd_packet_edit_pending(edit) && edit->pkt;

	if (rewritten)
		pkt = edit->pkt; /* the packet as it went on */
	put_time(&o, pkt);
	put_source(&o, pkt);
	put_decision(&o, pkt, info);
	put_devices(&o, pkt, info);
	put_headers(&o, pkt);
	put(&o, ",\"len\":%u", rewritten ? edit->len : pkt->len);
	if (pkt->meta & VD_META_CT)
		put(&o, ",\"ct_state\":\"%s\"", ct_name(pkt->ct_state));
	if (pkt->meta & VD_META_SEQ)
		put(&o, ",\"seq\":%u", pkt->seq);
	if (pkt->meta & VD_META_SEQ_GLOBAL)
		put(&o, ",\"seq_global\":%u", pkt->seq_global);
	if (pkt->parse_error && pkt->caplen)
		put(&o, ",\"parse_error\":\"%s\"", vd_parse_error_str(pkt->parse_error));
	if (rewritten)
		put_rewrite(&o, edit);
	put(&o, "}\n");
	return o.overflow ? 0 : o.len;
}
