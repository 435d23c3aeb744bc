/*
 * pcap_out.h - packet views as pcap records, and the pcap file they go to.
 *
 * One struct vd_pcap_out is one output file. Records are formatted by each
 * writer into a buffer of its own (vd_pcap_out_record: no lock, no I/O) and
 * appended a batch at a time (vd_pcap_out_append: one write(2) of whole
 * records under the output's lock, taken once per batch). Any number of
 * threads may do both at once; the caller that opened the output closes it,
 * after every writer has stopped.
 *
 * Write errors (a full disk) never crash and never block: each failure is
 * counted, reported through errno, and the file is cut back to its last
 * whole record so that it stays readable once space is free again.
 */
#ifndef VD_PCAP_OUT_H
#define VD_PCAP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <verdict/packet.h>

enum vd_pcap_linktype {
	VD_PCAP_NFLOG, /* LINKTYPE_NFLOG (239): metadata TLVs + the IP packet */
	VD_PCAP_RAW,   /* LINKTYPE_RAW (101): the IP packet alone */
};

/* Room that always holds one record: its 16-byte header and a snaplen
 * (65535) of bytes. */
#define VD_PCAP_RECORD_MAX (16 + 65535)

struct vd_pcap_out;

/* Any file format libpcap writes, for vd_pcap_out_open_format. */
struct vd_pcap_format {
	int dlt;            /* link type, a DLT_* value of <pcap/pcap.h> */
	uint32_t snaplen;   /* the header's snaplen: no record is longer */
	bool nanosecond;    /* nanosecond timestamps (libpcap's 0xa1b23c4d magic) */
};

/* Creates (or truncates) path and writes libpcap's file header: snaplen
 * 65535, link type lt, microsecond timestamps. The file is opened
 * close-on-exec. Returns NULL with one line in err ("PATH: cannot open for
 * writing: REASON") when path cannot be created or memory runs out. When the
 * header itself cannot be written (a full disk) the output still opens: the
 * header goes out before the first records that can be written. The caller
 * owns the result; see vd_pcap_out_close. */
struct vd_pcap_out *vd_pcap_out_open(const char *path, enum vd_pcap_linktype lt, char *err,
				     size_t errlen);

/* vd_pcap_out_open of a file in format f: any link type libpcap knows,
 * nanosecond timestamps when asked (vd_pcap_out_record then writes
 * nanoseconds too). Same errors and ownership. */
struct vd_pcap_out *vd_pcap_out_open_format(const char *path, const struct vd_pcap_format *f,
					    char *err, size_t errlen);

/* Hot path: formats one record for pkt into buf (room bytes), as libpcap
 * lays it out: a record header (seconds, microseconds, captured and original
 * length, host byte order), then pkt->caplen bytes of IP at pkt->data, with
 * pkt->len as the original length, stamped with pkt->timestamp_ns when
 * VD_META_TIMESTAMP is set and with the current time otherwise. With the NFLOG
 * link type the record also carries the packet header (hw_protocol, hook),
 * queue number, mark, interfaces, uid/gid, sequence numbers (each when its
 * meta bit is set) and a prefix: the prefix argument when not NULL, else
 * pkt->prefix when VD_META_PREFIX is set. A record holds at most 65535 bytes
 * after its header: a longer packet is cut there and keeps its original
 * length.
 *
 * Returns the record's length, or 0 when room may be too small for it
 * (nothing usable written; room of VD_PCAP_RECORD_MAX always suffices). No
 * lock, no allocation, no I/O; any thread, o only read. */
size_t vd_pcap_out_record(const struct vd_pcap_out *o, void *buf, size_t room,
			  const struct vd_packet *pkt, const char *prefix);

/* Hot path: formats one record of link-layer bytes, the n pieces at iov laid
 * end to end (its captured length is their sum), wire_len bytes long on the
 * wire (a wire_len below the sum: the sum), stamped ts_ns (nanoseconds since
 * the epoch; cut to microseconds unless the file has nanoseconds). For a
 * record the caller builds itself, whatever the link type: nothing is added.
 * Returns the record's length, or 0 when the pieces exceed the file's snaplen
 * or room (nothing usable written then). No lock, no allocation, no I/O. */
size_t vd_pcap_out_frame(const struct vd_pcap_out *o, void *buf, size_t room, uint64_t ts_ns,
			 const struct iovec *iov, unsigned n, uint32_t wire_len);

/* Appends len bytes holding count whole records (each from
 * vd_pcap_out_record or vd_pcap_out_frame) with one write(2), after the file header when that is
 * still missing. Takes the output's lock once, for that write. Returns 0, or
 * -1 with errno (ENOSPC, EFBIG, EIO; EBADF while closed after a failed
 * reopen): then the count records are counted in vd_pcap_out_errors and the
 * file is cut back to its last whole record. Thread-safe. */
int vd_pcap_out_append(struct vd_pcap_out *o, const void *records, size_t len, uint64_t count);

/* For logrotate (SIGHUP): closes the file and creates path again with a new
 * pcap header; records appended from then on go to the new file. Returns 0,
 * or -1 with err filled as vd_pcap_out_open does; the output then stays
 * closed (each append fails with EBADF and is counted) until a later reopen
 * succeeds. Thread-safe. */
int vd_pcap_out_reopen(struct vd_pcap_out *o, char *err, size_t errlen);

/* Records known to have reached the file: counted when their append
 * succeeded. Any thread. */
uint64_t vd_pcap_out_written(const struct vd_pcap_out *o);

/* Records that failed: lost to a write error or refused while closed. Any
 * thread. */
uint64_t vd_pcap_out_errors(const struct vd_pcap_out *o);

/* Closes the file and frees o. NULL is accepted. No other thread may use o
 * any more. */
void vd_pcap_out_close(struct vd_pcap_out *o);

#endif
