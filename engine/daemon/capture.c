/*
 * capture.c - a pcap or pcapng file as a sequence of packet views
 * (capture.h), for verdictd --replay.
 *
 * libpcap reads both formats; this file only finds the IP packet behind each
 * link type, and for NFLOG captures also the metadata TLVs. Every offset is
 * checked against the captured length: a short or odd frame is skipped and
 * counted, never read past.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <pcap/pcap.h>

#include "capture.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

struct vd_capture {
	pcap_t *pcap;
	char *path;
	int linktype;
	bool nanosecond;          /* the file may hold finer than microseconds */
	uint64_t records, skipped;
	struct vd_capture_frame frame; /* the record last returned */
};

/* Where the IP packet is in one record. */
struct ip_span {
	uint32_t off;    /* first byte of the IP header */
	uint32_t caplen; /* captured bytes from there */
	uint32_t len;    /* bytes on the wire from there */
};

static bool linktype_supported(int lt)
{
	switch (lt) {
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_NFLOG:
		return true;
	default:
		return false;
	}
}

/* Whether the file's timestamps may be finer than microseconds: a pcap file
 * with the nanosecond magic number, or pcapng (each interface sets its own
 * resolution, often nanoseconds). libpcap only tells the precision it was
 * asked for, so the magic number is read here. */
static bool file_nanosecond(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t m[4] = { 0 };
	bool nano;

	if (!f)
		return false;
	if (fread(m, 1, sizeof(m), f) != sizeof(m))
		m[0] = 0;
	fclose(f);
	nano = (m[0] == 0xa1 && m[1] == 0xb2 && m[2] == 0x3c && m[3] == 0x4d) ||
	       (m[0] == 0x4d && m[1] == 0x3c && m[2] == 0xb2 && m[3] == 0xa1);
	return nano || (m[0] == 0x0a && m[1] == 0x0d && m[2] == 0x0d && m[3] == 0x0a);
}

struct vd_capture *vd_capture_open(const char *path, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	struct vd_capture *c = calloc(1, sizeof(*c));
	const char *name;

	if (!c || !(c->path = strdup(path))) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(c);
		return NULL;
	}
	/* Nanoseconds: a file that has them keeps them; others are scaled. */
	c->pcap = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!c->pcap) {
		/* libpcap names the file itself when it could not open it. */
		if (strncmp(perr, path, strlen(path)) == 0)
			snprintf(err, errlen, "%s", perr);
		else
			snprintf(err, errlen, "%s: %s", path, perr);
		vd_capture_close(c);
		return NULL;
	}
	c->linktype = pcap_datalink(c->pcap);
	if (!linktype_supported(c->linktype)) {
		name = pcap_datalink_val_to_name(c->linktype);
		snprintf(err, errlen, "%s: link type %s (%d) is not supported (raw IP, Ethernet, "
			 "Linux cooked v1/v2, NFLOG, BSD loopback)", path, name ? name : "unknown",
			 c->linktype);
		vd_capture_close(c);
		return NULL;
	}
	c->nanosecond = file_nanosecond(path);
	return c;
}

static uint16_t be16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool ethertype_ip(uint16_t type)
{
	return type == 0x0800 || type == 0x86dd;
}

/* Offset of the IP header in an Ethernet frame of n bytes, after any
 * 802.1Q/802.1ad tags; 0 when it carries no IP. */
static uint32_t ethernet_ip(const uint8_t *f, uint32_t n)
{
	uint32_t off = 12;

	while (off + 2 <= n) {
		uint16_t type = be16_at(f + off);

		if (type == 0x8100 || type == 0x88a8) {
			off += 4;
			continue;
		}
		return ethertype_ip(type) ? off + 2 : 0;
	}
	return 0;
}

/* BSD loopback: a 4-byte address family, host order of the writer (DLT_NULL)
 * or network order (DLT_LOOP); both are tried. AF_INET is 2 everywhere;
 * AF_INET6 is 10 (Linux), 24 (Net/OpenBSD), 28 (FreeBSD), 30 (macOS). */
static bool loopback_ip(const uint8_t *f, uint32_t n)
{
	uint32_t family, swapped;

	if (n < 4)
		return false;
	memcpy(&family, f, 4);
	swapped = __builtin_bswap32(family);
	for (int i = 0; i < 2; i++, family = swapped) {
		if (family == 2 || family == 10 || family == 24 || family == 28 || family == 30)
			return true;
	}
	return false;
}

/* The 32-bit NFLOG attributes and where they go (as pcap_out.c writes them). */
static const struct {
	uint16_t type;
	uint32_t meta;
	size_t offset;
} u32_attrs[] = {
	{ NFULA_MARK, VD_META_MARK, offsetof(struct vd_packet, mark) },
	{ NFULA_IFINDEX_INDEV, VD_META_INDEV, offsetof(struct vd_packet, indev) },
	{ NFULA_IFINDEX_OUTDEV, VD_META_OUTDEV, offsetof(struct vd_packet, outdev) },
	{ NFULA_IFINDEX_PHYSINDEV, VD_META_PHYSINDEV, offsetof(struct vd_packet, physindev) },
	{ NFULA_IFINDEX_PHYSOUTDEV, VD_META_PHYSOUTDEV, offsetof(struct vd_packet, physoutdev) },
	{ NFULA_UID, VD_META_UID, offsetof(struct vd_packet, uid) },
	{ NFULA_GID, VD_META_GID, offsetof(struct vd_packet, gid) },
	{ NFULA_SEQ, VD_META_SEQ, offsetof(struct vd_packet, seq) },
	{ NFULA_SEQ_GLOBAL, VD_META_SEQ_GLOBAL, offsetof(struct vd_packet, seq_global) },
};

/* One complete NFLOG attribute (vlen bytes at v) into pkt's metadata;
 * unknown types and wrong lengths are ignored. */
static void nflog_attr(struct vd_packet *pkt, uint16_t type, const uint8_t *v, uint32_t vlen)
{
	switch (type) {
	case NFULA_PACKET_HDR:
		if (vlen >= sizeof(struct nfulnl_msg_packet_hdr)) {
			pkt->hw_protocol = be16_at(v);
			pkt->hook = v[2];
		}
		return;
	case NFULA_PREFIX:
		/* Only a terminated string: it is handed on as a C string. */
		if (vlen && memchr(v, '\0', vlen)) {
			pkt->prefix = (const char *)v;
			pkt->meta |= VD_META_PREFIX;
		}
		return;
	case NFULA_HWTYPE:
		if (vlen >= 2) {
			pkt->hw_type = be16_at(v);
			pkt->meta |= VD_META_HWTYPE;
		}
		return;
	default:
		break;
	}
	for (size_t i = 0; i < sizeof(u32_attrs) / sizeof(u32_attrs[0]); i++) {
		uint32_t x;

		if (u32_attrs[i].type != type || vlen < 4)
			continue;
		memcpy(&x, v, 4);
		x = ntohl(x);
		memcpy((uint8_t *)pkt + u32_attrs[i].offset, &x, 4);
		pkt->meta |= u32_attrs[i].meta;
	}
}

/* Walks the TLVs of an NFLOG record (n bytes captured of reclen) into pkt's
 * metadata and finds NFULA_PAYLOAD. TLV lengths and types are in the host's
 * order: libpcap swaps them for a file from the other byte order. A TLV
 * shorter than its own header or running past the record's length makes the
 * record untrustworthy: false. A TLV cut only by the capture's snaplen ends
 * the walk; if it is the payload, what was captured of it is used. */
static bool nflog_ip(const uint8_t *f, uint32_t n, uint32_t reclen, struct vd_packet *pkt,
		     struct ip_span *span)
{
	uint32_t off = 4;
	bool found = false;

	if (n < 4 || f[1] != 0) /* version: NFNETLINK_V0 is all there is */
		return false;
	pkt->family = f[0];
	pkt->queue = be16_at(f + 2);
	while (off + 4 <= n) {
		uint16_t tl[2];
		uint32_t vlen, have;

		memcpy(tl, f + off, 4);
		if (tl[0] < 4 || off + tl[0] > reclen)
			return false;
		vlen = tl[0] - 4u;
		have = vlen < n - off - 4 ? vlen : n - off - 4;
		if ((tl[1] & NLA_TYPE_MASK) == NFULA_PAYLOAD) {
			span->off = off + 4;
			span->caplen = have;
			/* The bytes missing from the record are missing from the
			 * payload: it is the last TLV. */
			span->len = have + (reclen - n);
			found = have > 0;
		} else if (have == vlen) {
			nflog_attr(pkt, tl[1] & NLA_TYPE_MASK, f + off + 4, vlen);
		}
		if (have < vlen)
			break;
		off += (tl[0] + 3u) & ~3u;
	}
	return found;
}

/* Finds the IP packet in record f (header h); false when it carries none.
 * For NFLOG, pkt collects the metadata. */
static bool record_ip(const struct vd_capture *c, const struct pcap_pkthdr *h, const uint8_t *f,
		      struct vd_packet *pkt, struct ip_span *span)
{
	uint32_t n = h->caplen, off = 0;
	uint32_t reclen = h->len > n ? h->len : n;

	switch (c->linktype) {
	case DLT_NFLOG:
		return nflog_ip(f, n, reclen, pkt, span);
	case DLT_EN10MB:
		off = ethernet_ip(f, n);
		if (!off)
			return false;
		break;
	case DLT_LINUX_SLL: /* 16 bytes, the protocol last */
		if (n < 16 || !ethertype_ip(be16_at(f + 14)))
			return false;
		off = 16;
		break;
	case DLT_LINUX_SLL2: /* 20 bytes, the protocol first */
		if (n < 20 || !ethertype_ip(be16_at(f)))
			return false;
		off = 20;
		break;
	case DLT_NULL:
	case DLT_LOOP:
		if (!loopback_ip(f, n))
			return false;
		off = 4;
		break;
	default: /* raw IP: the parser checks the version */
		break;
	}
	if (off >= n)
		return false;
	span->off = off;
	span->caplen = n - off;
	span->len = reclen - off;
	return true;
}

/* Copies what nflog_ip found into the view (view_init cleared it). */
static void nflog_meta_copy(struct vd_packet *pkt, const struct vd_packet *m)
{
	pkt->family = m->family;
	pkt->queue = m->queue;
	pkt->hw_protocol = m->hw_protocol;
	pkt->hook = m->hook;
	pkt->hw_type = m->hw_type;
	pkt->meta = m->meta;
	pkt->prefix = m->prefix;
	for (size_t i = 0; i < sizeof(u32_attrs) / sizeof(u32_attrs[0]); i++)
		memcpy((uint8_t *)pkt + u32_attrs[i].offset,
		       (const uint8_t *)m + u32_attrs[i].offset, 4);
}

/* vd_capture_next, the IP bytes copied to buf first when they fit size. */
static int next_record(struct vd_capture *c, struct vd_packet *pkt, uint8_t *buf, size_t size,
		       char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *f;
	int ret;

	for (;;) {
		struct vd_packet meta;
		struct ip_span span;
		const uint8_t *ip;

		ret = pcap_next_ex(c->pcap, &h, &f);
		if (ret == PCAP_ERROR_BREAK)
			return 0;
		if (ret != 1) {
			snprintf(err, errlen, "%s: record %llu: %s", c->path,
				 (unsigned long long)c->records + 1, pcap_geterr(c->pcap));
			return -1;
		}
		c->records++;
		memset(&meta, 0, sizeof(meta));
		if (!record_ip(c, h, f, &meta, &span)) {
			c->skipped++;
			continue;
		}
		c->frame = (struct vd_capture_frame){ .data = f, .caplen = h->caplen, .len = h->len,
						      .ip_off = span.off, .ip_caplen = span.caplen,
						      .ip_len = span.len };
		ip = f + span.off;
		if (buf && span.caplen <= size) {
			memcpy(buf, ip, span.caplen);
			ip = buf;
		}
		vd_packet_view_init(pkt, ip, span.caplen, span.len);
		if (c->linktype == DLT_NFLOG)
			nflog_meta_copy(pkt, &meta);
		pkt->source = VD_SOURCE_REPLAY;
		/* Opened with nanosecond precision: tv_usec holds nanoseconds. */
		pkt->timestamp_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
		pkt->meta |= VD_META_TIMESTAMP;
		vd_packet_parse(pkt);
		return 1;
	}
}

int vd_capture_next(struct vd_capture *c, struct vd_packet *pkt, char *err, size_t errlen)
{
	return next_record(c, pkt, NULL, 0, err, errlen);
}

int vd_capture_next_copy(struct vd_capture *c, struct vd_packet *pkt, uint8_t *buf, size_t size,
			 char *err, size_t errlen)
{
	return next_record(c, pkt, buf, size, err, errlen);
}

const struct vd_capture_frame *vd_capture_frame(const struct vd_capture *c)
{
	return &c->frame;
}

bool vd_capture_nanosecond(const struct vd_capture *c)
{
	return c->nanosecond;
}

uint64_t vd_capture_skipped(const struct vd_capture *c)
{
	return c->skipped;
}

int vd_capture_linktype(const struct vd_capture *c)
{
	return c->linktype;
}

void vd_capture_close(struct vd_capture *c)
{
	if (!c)
		return;
	if (c->pcap)
		pcap_close(c->pcap);
	free(c->path);
	free(c);
}
