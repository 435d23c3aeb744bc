/*
 * pcap_out.c - packet views as pcap records, and their file (pcap_out.h).
 *
 * NFLOG link type (LINKTYPE_NFLOG, 239): each record looks like what the
 * kernel's own NFLOG capture holds, a 4-byte header (family, version,
 * resource id) and TLVs laid out as netlink attributes (host byte order
 * lengths and types, 4-byte aligned, values as the kernel sends them), so
 * tcpdump and Wireshark show the prefix, mark and interfaces beside the IP
 * packet. Raw link type: the IP packet alone. The file header is libpcap's
 * own (pcap_dump_fopen into memory, once); records are laid out here as
 * libpcap's pcap_dump lays them out, so that each writer can format them
 * into its own buffer without libpcap's dumper and its lock.
 *
 * Appends are serialized by a mutex, taken once per batch, rather than left
 * to O_APPEND without a lock: a write that fails partway (a full disk, a
 * file size limit) leaves half a record, which must be cut away before any
 * other batch goes after it, or every record after it is unreadable. With
 * O_APPEND another worker's batch could already follow the half record and
 * the cut would take it too, or leave the garbage in the middle. The lock
 * also lets a reopen swap the file under no writer and the header go out
 * exactly once. Held for one write(2) per worker per batch, it costs the
 * per-packet path nothing.
 *
 * So the file's size after the last successful append is kept, and after a
 * failure the file is cut back to it. Records are counted as written only
 * once their append succeeded, as errors when it failed: the file always
 * holds exactly "written" records.
 */
#define _GNU_SOURCE /* fmemopen */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter/nfnetlink_log.h>
#include <pcap/pcap.h>

#include "pcap_out.h"

#define SNAPLEN 65535
#define PREFIX_MAX 255
/* NFLOG metadata at most: the 4-byte header, NFULA_PACKET_HDR (8), nine
 * 32-bit attributes (8 each), a prefix (4 + 256) and the payload's TLV
 * header (4). */
#define NFLOG_META_MAX (4 + 8 + 9 * 8 + 260 + 4)

/* A record's header as libpcap writes it (struct pcap_sf_pkthdr): 32-bit
 * fields in host byte order, as the file header's magic number says. */
struct record_header {
	uint32_t sec, usec, caplen, len;
};
_Static_assert(sizeof(struct record_header) == 16, "pcap record header is 16 bytes");
_Static_assert(VD_PCAP_RECORD_MAX == sizeof(struct record_header) + SNAPLEN,
	       "VD_PCAP_RECORD_MAX holds a record");

struct vd_pcap_out {
	char *path;
	struct vd_pcap_format format;
	pthread_mutex_t lock;    /* guards fd, header_out and good */
	int fd;                  /* -1 while closed (a failed reopen) */
	bool header_out;         /* the file header is in the file */
	off_t good;              /* bytes known written, whole records; -1:
				  * not seekable (a pipe) */
	_Atomic uint64_t written, errors;
	uint8_t header[64];      /* libpcap's file header for the format */
	size_t header_len;
};

/* Keeps the file header libpcap writes for o's format: it starts every
 * file, and a file whose header was lost to a write error gets it back. */
static int header_keep(struct vd_pcap_out *o)
{
	pcap_t *dead = pcap_open_dead_with_tstamp_precision(
		o->format.dlt, (int)o->format.snaplen,
		o->format.nanosecond ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
	FILE *m = dead ? fmemopen(o->header, sizeof(o->header), "w") : NULL;
	/* On failure libpcap has closed m, except for a link type it cannot
	 * write at all: the caller's format names one libpcap knows. */
	pcap_dumper_t *d = m ? pcap_dump_fopen(dead, m) : NULL;
	int64_t n = -1;

	if (d) {
		n = pcap_dump_flush(d) == 0 ? pcap_dump_ftell64(d) : -1;
		pcap_dump_close(d);
	}
	if (dead)
		pcap_close(dead);
	if (n <= 0 || (size_t)n >= sizeof(o->header))
		return -1;
	o->header_len = (size_t)n;
	return 0;
}

/* Writes all len bytes, going on after a short write. Returns 0 or an
 * errno. */
static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* After a failed write, with o->lock held: cuts the file back to its last
 * whole record, so that a reader sees whole records again once space is
 * free, and puts the file offset there for the next append. */
static void cut_back(struct vd_pcap_out *o)
{
	if (o->good < 0)
		return; /* a pipe: what went out stays out */
	if (ftruncate(o->fd, o->good) != 0) {
		/* a device such as /dev/full: nothing to cut */
	}
	lseek(o->fd, o->good, SEEK_SET);
}

/* Writes the header when it is missing, then len bytes of whole records;
 * with o->lock held. Returns 0 or an errno, the file cut back on failure. */
static int append_locked(struct vd_pcap_out *o, const void *records, size_t len)
{
	int e;

	if (o->fd < 0)
		return EBADF;
	if (!o->header_out) {
		e = write_all(o->fd, o->header, o->header_len);
		if (e)
			goto fail;
		o->header_out = true;
		if (o->good >= 0)
			o->good += (off_t)o->header_len;
	}
	if (len) {
		e = write_all(o->fd, records, len);
		if (e)
			goto fail;
		if (o->good >= 0)
			o->good += (off_t)len;
	}
	return 0;
fail:
	cut_back(o);
	return e;
}

/* Creates o->path with a pcap header; with o->lock held (or o unshared). */
static int file_open(struct vd_pcap_out *o, char *err, size_t errlen)
{
	o->fd = open(o->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (o->fd < 0) {
		snprintf(err, errlen, "%s: cannot open for writing: %s", o->path, strerror(errno));
		return -1;
	}
	o->header_out = false;
	o->good = lseek(o->fd, 0, SEEK_CUR) < 0 ? -1 : 0;
	/* The header out at once: the file is a valid empty capture from now
	 * on. On /dev/full or a full disk this fails, and the header goes out
	 * with the first append that succeeds. */
	append_locked(o, NULL, 0);
	return 0;
}

static void file_close(struct vd_pcap_out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
}

struct vd_pcap_out *vd_pcap_out_open(const char *path, enum vd_pcap_linktype lt, char *err,
				     size_t errlen)
{
	struct vd_pcap_format f = { .dlt = lt == VD_PCAP_NFLOG ? DLT_NFLOG : DLT_RAW,
				    .snaplen = SNAPLEN };

	return vd_pcap_out_open_format(path, &f, err, errlen);
}

struct vd_pcap_out *vd_pcap_out_open_format(const char *path, const struct vd_pcap_format *f,
					    char *err, size_t errlen)
{
	struct vd_pcap_out *o = calloc(1, sizeof(*o));

	if (!o || !(o->path = strdup(path))) {
		snprintf(err, errlen, "%s: cannot open for writing: out of memory", path);
		free(o);
		return NULL;
	}
	o->format = *f;
	o->fd = -1;
	pthread_mutex_init(&o->lock, NULL);
	if (header_keep(o) < 0) {
		snprintf(err, errlen, "%s: cannot open for writing: libpcap cannot make a header",
			 path);
		vd_pcap_out_close(o);
		return NULL;
	}
	if (file_open(o, err, errlen) < 0) {
		vd_pcap_out_close(o);
		return NULL;
	}
	return o;
}

/* Appends one TLV of n value bytes at buf[len]; returns the new length. The
 * caller checked that it fits. */
static size_t tlv_put(uint8_t *buf, size_t len, uint16_t type, const void *value, size_t n)
{
	uint16_t tl[2] = { (uint16_t)(4 + n), type };
	size_t padded = (4 + n + 3) & ~(size_t)3;

	memcpy(buf + len, tl, 4);
	if (n)
		memcpy(buf + len + 4, value, n);
	memset(buf + len + 4 + n, 0, padded - 4 - n);
	return len + padded;
}

/* The 32-bit attributes: each written when its meta bit is set. */
static const struct {
	uint32_t meta;
	uint16_t type;
	size_t offset;
} u32_attrs[] = {
	{ VD_META_MARK, NFULA_MARK, offsetof(struct vd_packet, mark) },
	{ VD_META_INDEV, NFULA_IFINDEX_INDEV, offsetof(struct vd_packet, indev) },
	{ VD_META_OUTDEV, NFULA_IFINDEX_OUTDEV, offsetof(struct vd_packet, outdev) },
	{ VD_META_PHYSINDEV, NFULA_IFINDEX_PHYSINDEV, offsetof(struct vd_packet, physindev) },
	{ VD_META_PHYSOUTDEV, NFULA_IFINDEX_PHYSOUTDEV, offsetof(struct vd_packet, physoutdev) },
	{ VD_META_UID, NFULA_UID, offsetof(struct vd_packet, uid) },
	{ VD_META_GID, NFULA_GID, offsetof(struct vd_packet, gid) },
	{ VD_META_SEQ, NFULA_SEQ, offsetof(struct vd_packet, seq) },
	{ VD_META_SEQ_GLOBAL, NFULA_SEQ_GLOBAL, offsetof(struct vd_packet, seq_global) },
};

/* Builds pkt's NFLOG record at b (room checked by the caller) with caplen
 * payload bytes, the payload cut so that the record fits SNAPLEN; returns
 * its length and the payload bytes left out in *cut. */
static size_t nflog_record(uint8_t *b, const struct vd_packet *pkt, uint32_t caplen,
			   const char *prefix, uint32_t *cut)
{
	struct nfulnl_msg_packet_hdr ph = { .hook = pkt->hook };
	uint16_t rid = htons(pkt->queue);
	uint16_t proto = pkt->hw_protocol;
	char text[PREFIX_MAX + 1];
	size_t len = 4, room;

	b[0] = pkt->ip_version == 4 ? AF_INET : pkt->ip_version == 6 ? AF_INET6 : AF_UNSPEC;
	b[1] = 0; /* NFNETLINK_V0 */
	memcpy(b + 2, &rid, 2);
	if (!proto && pkt->ip_version)
		proto = pkt->ip_version == 6 ? 0x86dd : 0x0800;
	ph.hw_protocol = htons(proto);
	len = tlv_put(b, len, NFULA_PACKET_HDR, &ph, sizeof(ph));
	for (size_t i = 0; i < sizeof(u32_attrs) / sizeof(u32_attrs[0]); i++) {
		uint32_t v;

		if (!(pkt->meta & u32_attrs[i].meta))
			continue;
		memcpy(&v, (const uint8_t *)pkt + u32_attrs[i].offset, 4);
		v = htonl(v);
		len = tlv_put(b, len, u32_attrs[i].type, &v, 4);
	}
	if (!prefix && (pkt->meta & VD_META_PREFIX))
		prefix = pkt->prefix;
	if (prefix) {
		/* Cut and NUL-terminated here, so that the TLV always ends in NUL. */
		size_t n = strnlen(prefix, PREFIX_MAX);

		memcpy(text, prefix, n);
		text[n] = '\0';
		len = tlv_put(b, len, NFULA_PREFIX, text, n + 1);
	}
	/* Metadata takes at most 4+8+9*8+260 bytes: the payload always has
	 * room. A multiple of 4, so that the TLV's padding fits SNAPLEN too. */
	room = (SNAPLEN - len - 4) & ~(size_t)3;
	*cut = caplen > room ? (uint32_t)(caplen - room) : 0;
	return tlv_put(b, len, NFULA_PAYLOAD, pkt->data, caplen - *cut);
}

/* A record's time from nanoseconds since the epoch, in the file's unit. */
static void record_time_ns(const struct vd_pcap_out *o, uint64_t ns, struct record_header *h)
{
	h->sec = (uint32_t)(ns / 1000000000u);
	h->usec = (uint32_t)(ns % 1000000000u / (o->format.nanosecond ? 1u : 1000u));
}

/* The record's time: the packet's own when it has one. */
static void record_time(const struct vd_pcap_out *o, const struct vd_packet *pkt,
			struct record_header *h)
{
	struct timespec ts;

	if (pkt->meta & VD_META_TIMESTAMP) {
		record_time_ns(o, pkt->timestamp_ns, h);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts); /* vDSO */
	record_time_ns(o, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, h);
}

/* Hot path for logged packets: formats into the caller's buffer; no lock,
 * no allocation, no syscall (the clock is the vDSO's). */
size_t vd_pcap_out_record(const struct vd_pcap_out *o, void *buf, size_t room,
			  const struct vd_packet *pkt, const char *prefix)
{
	struct record_header h;
	uint8_t *b = (uint8_t *)buf + sizeof(h);
	uint32_t caplen = pkt->data ? pkt->caplen : 0;
	uint32_t orig = pkt->len > caplen ? pkt->len : caplen;
	bool nflog = o->format.dlt == DLT_NFLOG;
	size_t need = nflog ? NFLOG_META_MAX + caplen + 3 : caplen;

	if (room < sizeof(h) + (need < SNAPLEN ? need : SNAPLEN))
		return 0;
	record_time(o, pkt, &h);
	if (nflog) {
		uint32_t cut;

		h.caplen = (uint32_t)nflog_record(b, pkt, caplen, prefix, &cut);
		h.len = h.caplen + (orig - caplen) + cut;
	} else {
		h.caplen = caplen > SNAPLEN ? SNAPLEN : caplen;
		h.len = orig;
		if (h.caplen)
			memcpy(b, pkt->data, h.caplen);
	}
	memcpy(buf, &h, sizeof(h));
	return sizeof(h) + h.caplen;
}

size_t vd_pcap_out_frame(const struct vd_pcap_out *o, void *buf, size_t room, uint64_t ts_ns,
			 const struct iovec *iov, unsigned n, uint32_t wire_len)
{
	struct record_header h;
	uint8_t *b = (uint8_t *)buf + sizeof(h);
	size_t caplen = 0;

	for (unsigned i = 0; i < n; i++)
		caplen += iov[i].iov_len;
	if (caplen > o->format.snaplen || room < sizeof(h) + caplen)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		if (iov[i].iov_len)
			memcpy(b, iov[i].iov_base, iov[i].iov_len);
		b += iov[i].iov_len;
	}
	record_time_ns(o, ts_ns, &h);
	h.caplen = (uint32_t)caplen;
	h.len = wire_len > caplen ? wire_len : (uint32_t)caplen;
	memcpy(buf, &h, sizeof(h));
	return sizeof(h) + caplen;
}

int vd_pcap_out_append(struct vd_pcap_out *o, const void *records, size_t len, uint64_t count)
{
	int e;

	pthread_mutex_lock(&o->lock);
	e = append_locked(o, records, len);
	pthread_mutex_unlock(&o->lock);
	atomic_fetch_add(e ? &o->errors : &o->written, count);
	if (e)
		errno = e;
	return e ? -1 : 0;
}

int vd_pcap_out_reopen(struct vd_pcap_out *o, char *err, size_t errlen)
{
	int ret;

	pthread_mutex_lock(&o->lock);
	file_close(o);
	ret = file_open(o, err, errlen);
	pthread_mutex_unlock(&o->lock);
	return ret;
}

uint64_t vd_pcap_out_written(const struct vd_pcap_out *o)
{
	return atomic_load(&o->written);
}

uint64_t vd_pcap_out_errors(const struct vd_pcap_out *o)
{
	return atomic_load(&o->errors);
}

void vd_pcap_out_close(struct vd_pcap_out *o)
{
	if (!o)
		return;
	file_close(o);
	pthread_mutex_destroy(&o->lock);
	free(o->path);
	free(o);
}
