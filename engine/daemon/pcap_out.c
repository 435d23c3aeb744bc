/*
 * pcap_out.c - packet views to a pcap file through libpcap (pcap_out.h).
 *
 * NFLOG link type (LINKTYPE_NFLOG, 239): each record looks like what the
 * kernel's own NFLOG capture holds, a 4-byte header (family, version,
 * resource id) and TLVs laid out as netlink attributes (host byte order
 * lengths and types, 4-byte aligned, values as the kernel sends them), so
 * tcpdump and Wireshark show the prefix, mark and interfaces beside the IP
 * packet. Raw link type: the IP packet alone.
 *
 * A full disk: stdio drops its buffer when a write fails, possibly after
 * writing part of it, which would leave half a record in the file and make
 * every record after it unreadable. So the file's size after the last
 * successful flush is kept, and after a failure the file is cut back to it.
 * Records are counted as written only once a flush succeeded, as errors when
 * they were cut away: the file always holds exactly "written" records.
 */
#define _GNU_SOURCE /* fopen "e" (O_CLOEXEC), __fpurge, fmemopen */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter/nfnetlink_log.h>
#include <pcap/pcap.h>

#include "pcap_out.h"

#define SNAPLEN 65535
#define RECORD_MAX (SNAPLEN + 256)
/* stdio's default is one 4 KiB block: a batch of full-size packets would
 * then cost a write(2) per few packets, each made under the mutex. */
#define STDIO_BUFFER (64u << 10)
#define PREFIX_MAX 255

struct vd_pcap_out {
	char *path;
	enum vd_pcap_linktype linktype;
	pcap_t *dead;
	pthread_mutex_t lock;    /* guards everything below but the counters */
	pcap_dumper_t *dumper;   /* NULL while closed (a failed reopen) */
	FILE *file;              /* the dumper's stream */
	off_t good;              /* bytes known written, whole records; 0: the
				  * header not yet; -1: not seekable (a pipe) */
	uint64_t pending;        /* records given to stdio since good */
	_Atomic uint64_t written, errors;
	uint8_t header[64];      /* libpcap's file header, to write it again */
	size_t header_len;
	uint8_t record[RECORD_MAX];
	char stdio_buffer[STDIO_BUFFER];
};

/* Keeps the file header libpcap writes for o's link type, so that a file
 * whose header was lost to a write error can get it back (see recover). */
static int header_keep(struct vd_pcap_out *o)
{
	FILE *m = fmemopen(o->header, sizeof(o->header), "w");
	/* On failure libpcap has closed m, except for a link type it cannot
	 * write at all: neither of ours. */
	pcap_dumper_t *d = m ? pcap_dump_fopen(o->dead, m) : NULL;
	int64_t n;

	if (!d)
		return -1;
	n = pcap_dump_flush(d) == 0 ? pcap_dump_ftell64(d) : -1;
	pcap_dump_close(d);
	if (n <= 0 || (size_t)n >= sizeof(o->header))
		return -1;
	o->header_len = (size_t)n;
	return 0;
}

/* After a stdio error, with o->lock held: drops what stdio still holds and
 * cuts the file back to its last whole record, so that a reader sees whole
 * records again once space is free. A file without its header yet gets it
 * back (into the buffer: it goes out with the next flush). */
static void recover(struct vd_pcap_out *o)
{
	__fpurge(o->file);
	clearerr(o->file);
	if (o->good < 0 || fseeko(o->file, o->good, SEEK_SET) != 0)
		return; /* a pipe: what went out stays out */
	if (ftruncate(fileno(o->file), o->good) != 0) {
		/* a device such as /dev/full: nothing to cut */
	}
	if (o->good == 0)
		fwrite(o->header, 1, o->header_len, o->file);
}

/* Counts the records lost to a failed write or flush (lost: the pending
 * ones plus extra) and recovers; with o->lock held. Returns the errno to
 * report. */
static int fail_locked(struct vd_pcap_out *o, uint64_t extra)
{
	int e = errno ? errno : EIO;

	atomic_fetch_add(&o->errors, o->pending + extra);
	o->pending = 0;
	recover(o);
	return e;
}

/* Flushes with o->lock held and o->dumper open. Returns 0 or an errno. */
static int flush_locked(struct vd_pcap_out *o)
{
	errno = 0;
	if (pcap_dump_flush(o->dumper) != 0 || ferror(o->file))
		return fail_locked(o, 0);
	atomic_fetch_add(&o->written, o->pending);
	o->pending = 0;
	if (o->good >= 0)
		o->good = (off_t)pcap_dump_ftell64(o->dumper);
	return 0;
}

/* Creates o->path with a pcap header; with o->lock held (or o unshared). */
static int file_open(struct vd_pcap_out *o, char *err, size_t errlen)
{
	FILE *f = fopen(o->path, "we");

	if (!f) {
		snprintf(err, errlen, "%s: cannot open for writing: %s", o->path, strerror(errno));
		return -1;
	}
	setvbuf(f, o->stdio_buffer, _IOFBF, sizeof(o->stdio_buffer));
	/* On failure it has closed f: it failed writing the header to it. */
	o->dumper = pcap_dump_fopen(o->dead, f);
	if (!o->dumper) {
		snprintf(err, errlen, "%s: cannot open for writing: %s", o->path,
			 pcap_geterr(o->dead));
		return -1;
	}
	o->file = f;
	o->pending = 0;
	o->good = 0;
	/* The header out at once: the file is a valid empty capture from now
	 * on. On /dev/full or a full disk this fails and the header waits in
	 * the buffer for a later flush. */
	flush_locked(o);
	return 0;
}

/* Flushes (counting) and closes the file; with o->lock held. */
static void file_close(struct vd_pcap_out *o)
{
	if (!o->dumper)
		return;
	flush_locked(o);
	pcap_dump_close(o->dumper);
	o->dumper = NULL;
	o->file = NULL;
}

struct vd_pcap_out *vd_pcap_out_open(const char *path, enum vd_pcap_linktype lt, char *err,
				     size_t errlen)
{
	struct vd_pcap_out *o = calloc(1, sizeof(*o));

	if (!o || !(o->path = strdup(path))) {
		snprintf(err, errlen, "%s: cannot open for writing: out of memory", path);
		free(o);
		return NULL;
	}
	o->linktype = lt;
	pthread_mutex_init(&o->lock, NULL);
	o->dead = pcap_open_dead(lt == VD_PCAP_NFLOG ? DLT_NFLOG : DLT_RAW, SNAPLEN);
	if (!o->dead || header_keep(o) < 0) {
		snprintf(err, errlen, "%s: cannot open for writing: libpcap cannot make a writer",
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
 * caller checked that it fits in RECORD_MAX. */
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

/* Builds pkt's NFLOG record in o->record, the payload cut so that the record
 * fits SNAPLEN; returns its length and the payload bytes left out in *cut. */
static size_t nflog_record(struct vd_pcap_out *o, const struct vd_packet *pkt, const char *prefix,
			   uint32_t *cut)
{
	uint8_t *b = o->record;
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
	*cut = pkt->caplen > room ? (uint32_t)(pkt->caplen - room) : 0;
	return tlv_put(b, len, NFULA_PAYLOAD, pkt->data, pkt->caplen - *cut);
}

/* The record's time: the packet's own when it has one. */
static void record_time(const struct vd_packet *pkt, struct timeval *tv)
{
	struct timespec ts;

	if (pkt->meta & VD_META_TIMESTAMP) {
		tv->tv_sec = (time_t)(pkt->timestamp_ns / 1000000000u);
		tv->tv_usec = (suseconds_t)(pkt->timestamp_ns % 1000000000u / 1000u);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
}

/* Hot path for logged packets: no allocation; one mutex; a syscall only when
 * stdio's buffer fills. */
int vd_pcap_out_write(struct vd_pcap_out *o, const struct vd_packet *pkt, const char *prefix)
{
	struct pcap_pkthdr h;
	uint32_t caplen = pkt->data ? pkt->caplen : 0;
	uint32_t orig = pkt->len > caplen ? pkt->len : caplen;
	const uint8_t *bytes = pkt->data;
	int e = 0;

	record_time(pkt, &h.ts);
	pthread_mutex_lock(&o->lock);
	if (!o->dumper) {
		atomic_fetch_add(&o->errors, 1);
		pthread_mutex_unlock(&o->lock);
		errno = EBADF;
		return -1;
	}
	if (o->linktype == VD_PCAP_NFLOG) {
		uint32_t cut;

		h.caplen = (bpf_u_int32)nflog_record(o, pkt, prefix, &cut);
		h.len = h.caplen + (orig - caplen) + cut;
		bytes = o->record;
	} else {
		h.caplen = caplen > SNAPLEN ? SNAPLEN : caplen;
		h.len = orig;
	}
	errno = 0;
	pcap_dump((u_char *)o->dumper, &h, bytes ? bytes : o->record);
	if (ferror(o->file))
		e = fail_locked(o, 1);
	else
		o->pending++;
	pthread_mutex_unlock(&o->lock);
	if (e)
		errno = e;
	return e ? -1 : 0;
}

int vd_pcap_out_flush(struct vd_pcap_out *o)
{
	int e;

	pthread_mutex_lock(&o->lock);
	e = o->dumper ? flush_locked(o) : EBADF;
	pthread_mutex_unlock(&o->lock);
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
	if (o->dead)
		pcap_close(o->dead);
	pthread_mutex_destroy(&o->lock);
	free(o->path);
	free(o);
}
