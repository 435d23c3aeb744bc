/*
 * capture.c - a pcap or pcapng file as a sequence of packet views
 * (capture.h), for verdictd --replay.
 *
 * libpcap reads both formats; this file only finds the IP header behind each
 * link type, and for NFLOG captures also the metadata TLVs. Every offset is
 * checked against the captured length: a short or odd frame is skipped and
 * counted, never read past.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netfilter/nfnetlink_log.h>
#include <pcap/pcap.h>

#include "capture.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

struct vd_capture {
	pcap_t *pcap;
	char *path;
	int linktype;
	uint64_t records, skipped;
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

struct vd_capture *vd_capture_open(const char *path, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	struct vd_capture *c = calloc(1, sizeof(*c));

	if (!c || !(c->path = strdup(path))) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(c);
		return NULL;
	}
	c->pcap = pcap_open_offline(path, perr);
	if (!c->pcap) {
		/* libpcap's message names the file already when it could not open it. */
		if (strstr(perr, path))
			snprintf(err, errlen, "%s", perr);
		else
			snprintf(err, errlen, "%s: %s", path, perr);
		vd_capture_close(c);
		return NULL;
	}
	c->linktype = pcap_datalink(c->pcap);
	if (!linktype_supported(c->linktype)) {
		const char *name = pcap_datalink_val_to_name(c->linktype);

		snprintf(err, errlen, "%s: link type %s (%d) is not supported (raw IP, Ethernet, Linux "
			 "cooked v1/v2, NFLOG, BSD loopback)", path, name ? name : "unknown",
			 c->linktype);
		vd_capture_close(c);
		return NULL;
	}
	return c;
}

static uint16_t be16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Offset of the IP header in an Ethernet frame (after VLAN tags), or -1. */
static long ethernet_ip(const uint8_t *f, uint32_t n)
{
	uint32_t off = 12;

	while (off + 2 <= n) {
		uint16_t type = be16_at(f + off);

		if (type == 0x8100 || type == 0x88a8) {
			off += 4;
			continue;
		}
		return (type == 0x0800 || type == 0x86dd) ? (long)off + 2 : -1;
	}
	return -1;
}

/* Reads NFLOG TLVs into pkt's metadata; returns the payload offset or -1. */
static long nflog_ip(const uint8_t *f, uint32_t n, struct vd_packet *meta, uint32_t *iplen)
{
	uint32_t off = 4;
	long payload = -1;

	if (n < 4)
		return -1;
	meta->family = f[0];
	meta->queue = be16_at(f + 2);
	while (off + 4 <= n) {
		uint16_t tl[2];
		uint32_t vlen;
		const uint8_t *v = f + off + 4;

		memcpy(tl, f + off, 4);
		if (tl[0] < 4 || off + tl[0] > n)
			return -1; /* a TLV past the record: nothing in it can be trusted */
		vlen = tl[0] - 4u;
		switch (tl[1] & 0x7fff) {
		case NFULA_PAYLOAD:
			payload = (long)(off + 4);
			*iplen = vlen;
			break;
		case NFULA_PREFIX:
			if (vlen && memchr(v, '\0', vlen)) {
				meta->prefix = (const char *)v;
				meta->meta |= VD_META_PREFIX;
			}
			break;
		case NFULA_MARK:
		case NFULA_IFINDEX_INDEV:
		case NFULA_IFINDEX_OUTDEV:
		case NFULA_UID:
		case NFULA_GID:
			if (vlen >= 4) {
				uint32_t x;
				uint16_t t = tl[1] & 0x7fff;

				memcpy(&x, v, 4);
				x = ntohl(x);
				if (t == NFULA_MARK)
					meta->mark = x, meta->meta |= VD_META_MARK;
				else if (t == NFULA_IFINDEX_INDEV)
					meta->indev = x, meta->meta |= VD_META_INDEV;
				else if (t == NFULA_IFINDEX_OUTDEV)
					meta->outdev = x, meta->meta |= VD_META_OUTDEV;
				else if (t == NFULA_UID)
					meta->uid = x, meta->meta |= VD_META_UID;
				else
					meta->gid = x, meta->meta |= VD_META_GID;
			}
			break;
		case NFULA_PACKET_HDR:
			if (vlen >= 3) {
				meta->hw_protocol = be16_at(v);
				meta->hook = v[2];
			}
			break;
		default:
			break;
		}
		off += (tl[0] + 3u) & ~3u;
	}
	return payload;
}

/* The IP header's offset in frame f of n captured bytes, or -1 without IP.
 * meta collects what the link layer says (NFLOG only). */
static long ip_offset(const struct vd_capture *c, const uint8_t *f, uint32_t n,
		      struct vd_packet *meta, uint32_t *iplen)
{
	*iplen = 0;
	switch (c->linktype) {
	case DLT_EN10MB:
		return ethernet_ip(f, n);
	case DLT_LINUX_SLL:
		return n >= 16 && (be16_at(f + 14) == 0x0800 || be16_at(f + 14) == 0x86dd) ? 16 : -1;
	case DLT_LINUX_SLL2:
		return n >= 20 && (be16_at(f) == 0x0800 || be16_at(f) == 0x86dd) ? 20 : -1;
	case DLT_NULL:
	case DLT_LOOP:
		/* A 4-byte address family, in either byte order; the parser checks
		 * the IP version behind it. */
		return n > 4 ? 4 : -1;
	case DLT_NFLOG:
		return nflog_ip(f, n, meta, iplen);
	default: /* raw IP */
		return n ? 0 : -1;
	}
}

int vd_capture_next(struct vd_capture *c, struct vd_packet *pkt, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *f;
	int ret;

	for (;;) {
		struct vd_packet meta;
		uint32_t iplen, caplen;
		long off;

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
		off = ip_offset(c, f, h->caplen, &meta, &iplen);
		if (off < 0 || (uint32_t)off >= h->caplen) {
			c->skipped++;
			continue;
		}
		caplen = iplen ? iplen : h->caplen - (uint32_t)off;
		vd_packet_view_init(pkt, f + off, caplen,
				    h->len > (uint32_t)off + caplen ? h->len - (uint32_t)off : caplen);
		if (c->linktype == DLT_NFLOG) {
			/* The NFLOG TLVs other than the payload do not count toward len. */
			pkt->len = caplen + (h->len > h->caplen ? h->len - h->caplen : 0);
			pkt->flags = pkt->len > caplen ? VD_PACKET_TRUNCATED : 0;
			pkt->family = meta.family;
			pkt->queue = meta.queue;
			pkt->hw_protocol = meta.hw_protocol;
			pkt->hook = meta.hook;
			pkt->meta = meta.meta;
			pkt->prefix = meta.prefix;
			pkt->mark = meta.mark;
			pkt->indev = meta.indev;
			pkt->outdev = meta.outdev;
			pkt->uid = meta.uid;
			pkt->gid = meta.gid;
		}
		pkt->source = VD_SOURCE_REPLAY;
		pkt->timestamp_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec * 1000u;
		pkt->meta |= VD_META_TIMESTAMP;
		vd_packet_parse(pkt);
		return 1;
	}
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
