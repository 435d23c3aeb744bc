/*
 * pcap_out.c - packet views to a pcap file through libpcap (pcap_out.h).
 *
 * NFLOG link type (LINKTYPE_NFLOG, 239): each record is what the kernel's own
 * NFLOG capture looks like, a 4-byte header (family, version, resource id)
 * and TLVs laid out as netlink attributes (host byte order lengths and types,
 * 4-byte aligned, values as the kernel sends them), so tcpdump and Wireshark
 * show the prefix, mark and interfaces beside the IP packet. Raw link type:
 * the IP packet alone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/netfilter/nfnetlink_log.h>
#include <pcap/pcap.h>

#include "pcap_out.h"

#define SNAPLEN 65535
#define RECORD_MAX (SNAPLEN + 1024)

struct vd_pcap_out {
	char *path;
	enum vd_pcap_linktype linktype;
	pcap_t *dead;
	pcap_dumper_t *dumper;   /* NULL after a failed reopen */
	pthread_mutex_t lock;    /* held for one record's copy into stdio */
	_Atomic uint64_t written, errors;
	uint8_t record[RECORD_MAX];
};

static int dumper_open(struct vd_pcap_out *o, char *err, size_t errlen)
{
	o->dumper = pcap_dump_open(o->dead, o->path);
	if (!o->dumper) {
		snprintf(err, errlen, "%s: cannot open for writing: %s", o->path, pcap_geterr(o->dead));
		return -1;
	}
	return 0;
}

struct vd_pcap_out *vd_pcap_out_open(const char *path, enum vd_pcap_linktype lt, char *err,
				     size_t errlen)
{
	struct vd_pcap_out *o = calloc(1, sizeof(*o));

	if (!o || !(o->path = strdup(path))) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(o);
		return NULL;
	}
	o->linktype = lt;
	pthread_mutex_init(&o->lock, NULL);
	o->dead = pcap_open_dead(lt == VD_PCAP_NFLOG ? DLT_NFLOG : DLT_RAW, SNAPLEN);
	if (!o->dead) {
		snprintf(err, errlen, "%s: libpcap cannot make a writer", path);
		vd_pcap_out_close(o);
		return NULL;
	}
	if (dumper_open(o, err, errlen) < 0) {
		vd_pcap_out_close(o);
		return NULL;
	}
	return o;
}

/* Appends one TLV; returns the new length (len unchanged if it does not fit). */
static size_t tlv_put(uint8_t *buf, size_t len, uint16_t type, const void *value, size_t n)
{
	uint16_t tl[2] = { (uint16_t)(4 + n), type };
	size_t padded = (4 + n + 3) & ~(size_t)3;

	if (len + padded > RECORD_MAX)
		return len;
	memcpy(buf + len, tl, 4);
	memcpy(buf + len + 4, value, n);
	memset(buf + len + 4 + n, 0, padded - 4 - n);
	return len + padded;
}

static size_t tlv_u32(uint8_t *buf, size_t len, uint16_t type, uint32_t host)
{
	uint32_t be = htonl(host);

	return tlv_put(buf, len, type, &be, sizeof(be));
}

/* Builds the NFLOG record for pkt in o->record; returns its length. */
static size_t nflog_record(struct vd_pcap_out *o, const struct vd_packet *pkt, const char *prefix)
{
	uint8_t *b = o->record;
	struct nfulnl_msg_packet_hdr ph = { .hook = pkt->hook };
	uint16_t rid = htons(pkt->queue);
	size_t len = 4;

	b[0] = pkt->ip_version == 4 ? AF_INET : pkt->ip_version == 6 ? AF_INET6 : AF_UNSPEC;
	b[1] = 0;
	memcpy(b + 2, &rid, 2);
	ph.hw_protocol = htons(pkt->hw_protocol ? pkt->hw_protocol
				: pkt->ip_version == 6 ? 0x86dd : 0x0800);
	len = tlv_put(b, len, NFULA_PACKET_HDR, &ph, sizeof(ph));
	if (pkt->meta & VD_META_MARK)
		len = tlv_u32(b, len, NFULA_MARK, pkt->mark);
	if (pkt->meta & VD_META_INDEV)
		len = tlv_u32(b, len, NFULA_IFINDEX_INDEV, pkt->indev);
	if (pkt->meta & VD_META_OUTDEV)
		len = tlv_u32(b, len, NFULA_IFINDEX_OUTDEV, pkt->outdev);
	if (pkt->meta & VD_META_UID)
		len = tlv_u32(b, len, NFULA_UID, pkt->uid);
	if (pkt->meta & VD_META_GID)
		len = tlv_u32(b, len, NFULA_GID, pkt->gid);
	if (!prefix && (pkt->meta & VD_META_PREFIX))
		prefix = pkt->prefix;
	if (prefix)
		len = tlv_put(b, len, NFULA_PREFIX, prefix, strnlen(prefix, 255) + 1);
	return tlv_put(b, len, NFULA_PAYLOAD, pkt->data, pkt->data ? pkt->caplen : 0);
}

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

/* A stdio error on the dump file: counted, cleared, reported through errno. */
static int check_file(struct vd_pcap_out *o)
{
	FILE *f = o->dumper ? pcap_dump_file(o->dumper) : NULL;

	if (!f) {
		errno = EBADF;
		return -1;
	}
	if (ferror(f)) {
		clearerr(f);
		if (!errno || errno == EINTR)
			errno = EIO;
		return -1;
	}
	return 0;
}

int vd_pcap_out_write(struct vd_pcap_out *o, const struct vd_packet *pkt, const char *prefix)
{
	struct pcap_pkthdr h;
	const uint8_t *bytes;
	size_t n;
	int ret = 0;

	pthread_mutex_lock(&o->lock);
	if (o->linktype == VD_PCAP_NFLOG) {
		n = nflog_record(o, pkt, prefix);
		bytes = o->record;
		h.len = (bpf_u_int32)(n + (pkt->len - pkt->caplen));
	} else {
		n = pkt->data ? pkt->caplen : 0;
		bytes = pkt->data;
		h.len = pkt->len;
	}
	h.caplen = (bpf_u_int32)(n > SNAPLEN ? SNAPLEN : n);
	record_time(pkt, &h.ts);
	if (!o->dumper) {
		errno = EBADF;
		ret = -1;
	} else {
		errno = 0;
		pcap_dump((u_char *)o->dumper, &h, bytes ? bytes : (const uint8_t *)"");
		ret = check_file(o);
	}
	pthread_mutex_unlock(&o->lock);
	atomic_fetch_add(ret ? &o->errors : &o->written, 1);
	return ret;
}

int vd_pcap_out_flush(struct vd_pcap_out *o)
{
	int ret = -1;

	pthread_mutex_lock(&o->lock);
	if (o->dumper) {
		errno = 0;
		ret = pcap_dump_flush(o->dumper) == 0 ? check_file(o) : -1;
		if (ret < 0 && !errno)
			errno = EIO;
		if (ret < 0)
			clearerr(pcap_dump_file(o->dumper));
	} else {
		errno = EBADF;
	}
	pthread_mutex_unlock(&o->lock);
	return ret;
}

int vd_pcap_out_reopen(struct vd_pcap_out *o, char *err, size_t errlen)
{
	int ret;

	pthread_mutex_lock(&o->lock);
	if (o->dumper)
		pcap_dump_close(o->dumper);
	o->dumper = NULL;
	ret = dumper_open(o, err, errlen);
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
	if (o->dumper)
		pcap_dump_close(o->dumper);
	if (o->dead)
		pcap_close(o->dead);
	pthread_mutex_destroy(&o->lock);
	free(o->path);
	free(o);
}
