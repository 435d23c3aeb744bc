/*
 * replay_out.c - the --write-pcap file of a replay (replay_out.h).
 *
 * A rewritten packet is put back into its record rather than written bare,
 * so that the file keeps the input's link type: what Wireshark showed for
 * the input it shows for the output, Ethernet addresses, cooked headers and
 * NFLOG prefixes included. Records are laid out by vd_pcap_out_frame from
 * pieces (the record's own bytes before and after the IP packet, the new
 * packet between), so nothing is copied twice.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "pcap_out.h"
#include "replay_out.h"

/* libpcap's largest snaplen (MAXIMUM_SNAPLEN): it reads no longer record. */
#define OUT_SNAPLEN 262144u
/* Gathers many records; always holds the largest one (header, snaplen). */
#define OUT_BUFFER (1u << 20)
/* The NFLOG payload attribute's header: 16-bit length and type. */
#define NFLOG_TLV_HEADER 4u

_Static_assert(OUT_BUFFER >= 16 + OUT_SNAPLEN, "the buffer holds any record");

struct vd_replay_out {
	struct vd_pcap_out *pcap;
	char *path;
	int dlt;
	uint8_t *buf;
	size_t len;
	uint64_t records;  /* gathered in buf, not yet written */
};

uint32_t vd_replay_out_capacity(int dlt)
{
	return dlt == DLT_NFLOG ? VD_EDIT_MAX_LEN - NFLOG_TLV_HEADER : VD_EDIT_MAX_LEN;
}

struct vd_replay_out *vd_replay_out_open(const char *path, const struct vd_capture *c, char *err,
					 size_t errlen)
{
	struct vd_pcap_format f = { .dlt = vd_capture_linktype(c), .snaplen = OUT_SNAPLEN,
				    .nanosecond = vd_capture_nanosecond(c) };
	struct vd_replay_out *o = calloc(1, sizeof(*o));
	char why[512];

	if (!o || !(o->path = strdup(path)) || !(o->buf = malloc(OUT_BUFFER))) {
		snprintf(err, errlen, "--write-pcap %s: cannot open for writing: out of memory",
			 path);
		goto fail;
	}
	o->dlt = f.dlt;
	if (!(o->pcap = vd_pcap_out_open_format(path, &f, why, sizeof(why)))) {
		snprintf(err, errlen, "--write-pcap %s", why);
		goto fail;
	}
	return o;
fail:
	vd_replay_out_close(o);
	return NULL;
}

/* The pieces of record fr with its IP packet replaced by the edit's bytes;
 * returns how many. tlv (4 bytes) holds the NFLOG payload attribute's new
 * header. The edit was only made on a packet captured whole, so nothing of
 * the record is missing. */
static unsigned splice(int dlt, const struct vd_capture_frame *fr,
		       const struct vd_packet_edit *edit, uint8_t tlv[NFLOG_TLV_HEADER],
		       struct iovec iov[5])
{
	static const uint8_t zeros[3];
	uint32_t tail, pad;
	uint16_t tl[2];

	if (dlt != DLT_NFLOG) {
		iov[0] = (struct iovec){ (void *)fr->data, fr->ip_off };
		iov[1] = (struct iovec){ edit->buf, edit->len };
		return 2;
	}
	/* capture.c found the payload's value at ip_off, behind its header;
	 * lengths and types are in the host's order, as in the file. */
	memcpy(tl, fr->data + fr->ip_off - NFLOG_TLV_HEADER, sizeof(tl));
	tl[0] = (uint16_t)(NFLOG_TLV_HEADER + edit->len);
	memcpy(tlv, tl, sizeof(tl));
	pad = (4u - edit->len % 4u) % 4u;
	tail = fr->ip_off + ((fr->ip_caplen + 3u) & ~3u); /* after the old padding */
	if (tail > fr->caplen)
		tail = fr->caplen; /* a last attribute without its padding */
	iov[0] = (struct iovec){ (void *)fr->data, fr->ip_off - NFLOG_TLV_HEADER };
	iov[1] = (struct iovec){ tlv, NFLOG_TLV_HEADER };
	iov[2] = (struct iovec){ edit->buf, edit->len };
	iov[3] = (struct iovec){ (void *)zeros, pad };
	iov[4] = (struct iovec){ (void *)(fr->data + tail), fr->caplen - tail };
	return 5;
}

int vd_replay_out_flush(struct vd_replay_out *o, char *err, size_t errlen)
{
	int ret = 0;

	if (o->len && vd_pcap_out_append(o->pcap, o->buf, o->len, o->records) < 0) {
		snprintf(err, errlen, "--write-pcap %s: write failed: %s", o->path,
			 strerror(errno));
		ret = -1;
	}
	o->len = 0;
	o->records = 0;
	return ret;
}

int vd_replay_out_write(struct vd_replay_out *o, const struct vd_capture *c,
			const struct vd_packet *pkt, const struct vd_packet_edit *edit, char *err,
			size_t errlen)
{
	const struct vd_capture_frame *fr = vd_capture_frame(c);
	struct iovec iov[5];
	uint8_t tlv[NFLOG_TLV_HEADER];
	uint32_t wire_len = fr->len;
	unsigned n = 1;
	size_t need = 16, rec;

	iov[0] = (struct iovec){ (void *)fr->data, fr->caplen };
	if (vd_packet_edit_pending(edit)) {
		n = splice(o->dlt, fr, edit, tlv, iov);
		wire_len = 0; /* whole: the pieces' sum */
	}
	for (unsigned i = 0; i < n; i++)
		need += iov[i].iov_len;
	if (OUT_BUFFER - o->len < need && vd_replay_out_flush(o, err, errlen) < 0)
		return -1;
	rec = vd_pcap_out_frame(o->pcap, o->buf + o->len, OUT_BUFFER - o->len, pkt->timestamp_ns,
				iov, n, wire_len);
	if (!rec) { /* only a record grown past the snaplen */
		snprintf(err, errlen, "--write-pcap %s: a record of %zu bytes is longer than the "
			 "snaplen, %u", o->path, need - 16, OUT_SNAPLEN);
		return -1;
	}
	o->len += rec;
	o->records++;
	return 0;
}

uint64_t vd_replay_out_written(const struct vd_replay_out *o)
{
	return vd_pcap_out_written(o->pcap);
}

void vd_replay_out_close(struct vd_replay_out *o)
{
	if (!o)
		return;
	vd_pcap_out_close(o->pcap);
	free(o->buf);
	free(o->path);
	free(o);
}
