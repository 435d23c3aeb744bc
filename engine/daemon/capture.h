/*
 * capture.h - read a pcap or pcapng file into packet views (offline replay).
 *
 * One struct vd_capture is one open file, read front to back by one thread.
 * Link types: raw IP (DLT_RAW, DLT_IPV4, DLT_IPV6), Ethernet (DLT_EN10MB,
 * with 802.1Q/802.1ad tags), Linux cooked v1 and v2 (DLT_LINUX_SLL,
 * DLT_LINUX_SLL2), NFLOG (DLT_NFLOG, with its metadata) and BSD loopback
 * (DLT_NULL, DLT_LOOP).
 */
#ifndef VD_CAPTURE_H
#define VD_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <verdict/packet.h>

struct vd_capture;

/* The record vd_capture_next last returned, as the file holds it. */
struct vd_capture_frame {
	const uint8_t *data; /* the record's bytes, link header first */
	uint32_t caplen;     /* bytes captured at data */
	uint32_t len;        /* the record's length on the wire */
	uint32_t ip_off;     /* where the IP packet starts in data */
	uint32_t ip_caplen;  /* its bytes captured from there (the view's caplen) */
	uint32_t ip_len;     /* its bytes on the wire (the view's len) */
};

/* Opens path, a pcap or pcapng file. Returns NULL with one line in err when
 * it cannot be read ("PATH: No such file or directory", "PATH: unknown file
 * format") or its link type carries no IP header this file can find
 * ("PATH: link type NAME (N) is not supported (...)"). The caller owns the
 * result; see vd_capture_close. */
struct vd_capture *vd_capture_open(const char *path, char *err, size_t errlen);

/* Reads the next record that carries IP and fills *pkt as a view of it:
 * vd_packet_view_init over the IP bytes (caplen: captured IP bytes; len: the
 * original length minus the link header), source VD_SOURCE_REPLAY,
 * timestamp_ns from the record (nanoseconds when the file has them) with
 * VD_META_TIMESTAMP, the NFLOG metadata when the link type is NFLOG, then
 * vd_packet_parse. The view points into libpcap's buffer: it is valid until
 * the next call on c. A record without IP (ARP, a frame too short, an NFLOG
 * record whose TLVs are broken) is skipped and counted, never returned.
 *
 * Returns 1 with *pkt filled, 0 at the end of the file, or -1 with err filled
 * on a read error ("PATH: record N: REASON", e.g. a truncated file). */
int vd_capture_next(struct vd_capture *c, struct vd_packet *pkt, char *err, size_t errlen);

/* vd_capture_next, but the IP bytes are copied into buf (size bytes) first
 * and the view is over them there, so that the caller may edit them; the
 * record itself stays as it was (vd_capture_frame). When they do not fit,
 * the view is over libpcap's buffer as with vd_capture_next (check
 * pkt->data == buf). */
int vd_capture_next_copy(struct vd_capture *c, struct vd_packet *pkt, uint8_t *buf, size_t size,
			 char *err, size_t errlen);

/* The record last returned by vd_capture_next(_copy), untouched: valid until
 * the next call on c. */
const struct vd_capture_frame *vd_capture_frame(const struct vd_capture *c);

/* True when the file's timestamps may be finer than microseconds (a
 * nanosecond pcap file, or pcapng): a copy should keep nanoseconds. */
bool vd_capture_nanosecond(const struct vd_capture *c);

/* Records skipped so far because they carried no IP. */
uint64_t vd_capture_skipped(const struct vd_capture *c);

/* The file's link type, a DLT_* value of <pcap/pcap.h>. */
int vd_capture_linktype(const struct vd_capture *c);

/* Closes the file and frees c; every view it gave is invalid. NULL is
 * accepted. */
void vd_capture_close(struct vd_capture *c);

#endif
