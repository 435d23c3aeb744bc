/*
 * pcap_out.h - write packet views to a pcap file through libpcap.
 *
 * One struct vd_pcap_out is one output file. Any number of threads may write
 * to it at once; the caller that opened it closes it, after every writer has
 * stopped. Records go through stdio: they reach the file when stdio's buffer
 * fills or at vd_pcap_out_flush, which a writer calls once per batch.
 *
 * Write errors (a full disk) never crash and never block: each failure is
 * counted, reported through errno, and the file is cut back to its last
 * whole record so that it stays readable once space is free again.
 */
#ifndef VD_PCAP_OUT_H
#define VD_PCAP_OUT_H

#include <stddef.h>
#include <stdint.h>

#include <verdict/packet.h>

enum vd_pcap_linktype {
	VD_PCAP_NFLOG, /* LINKTYPE_NFLOG (239): metadata TLVs + the IP packet */
	VD_PCAP_RAW,   /* LINKTYPE_RAW (101): the IP packet alone */
};

struct vd_pcap_out;

/* Creates (or truncates) path and writes the pcap file header: snaplen 65535,
 * link type lt. The file is opened close-on-exec. Returns NULL with one line
 * in err ("PATH: cannot open for writing: REASON") when path cannot be
 * created or memory runs out. The caller owns the result; see
 * vd_pcap_out_close. */
struct vd_pcap_out *vd_pcap_out_open(const char *path, enum vd_pcap_linktype lt, char *err,
				     size_t errlen);

/* Writes one record for pkt: pkt->caplen bytes of IP at pkt->data, with
 * pkt->len as the original length, stamped with pkt->timestamp_ns when
 * VD_META_TIMESTAMP is set and with the current time otherwise. With the NFLOG
 * link type the record also carries the packet header (hw_protocol, hook),
 * queue number, mark, interfaces, uid/gid, sequence numbers (each when its
 * meta bit is set) and a prefix: the prefix argument when not NULL, else
 * pkt->prefix when VD_META_PREFIX is set. A record is at most 65535 bytes: a
 * longer packet is cut there and keeps its original length.
 *
 * Returns 0, or -1 with errno when the write failed (ENOSPC, EIO, EBADF after
 * a failed reopen); the records lost with it are counted in
 * vd_pcap_out_errors. Thread-safe: an internal mutex serializes writers. It
 * is held while one record is built and copied into stdio's buffer, and for
 * the write(2) stdio makes when that buffer fills. Allocates nothing. */
int vd_pcap_out_write(struct vd_pcap_out *o, const struct vd_packet *pkt, const char *prefix);

/* Pushes buffered records to the file (pcap_dump_flush). Returns 0, or -1
 * with errno (ENOSPC, EIO; EBADF after a failed reopen); the records lost
 * are counted as errors. Thread-safe; holds the mutex for the write(2). */
int vd_pcap_out_flush(struct vd_pcap_out *o);

/* For logrotate (SIGHUP): flushes and closes the file, then creates path
 * again with a new pcap header. Returns 0, or -1 with err filled as
 * vd_pcap_out_open does; the output then stays closed (each write fails with
 * EBADF and is counted) until a later reopen succeeds. Thread-safe. */
int vd_pcap_out_reopen(struct vd_pcap_out *o, char *err, size_t errlen);

/* Records known to have reached the file: counted when a flush (or reopen,
 * or close) succeeds, so a record still in stdio's buffer is in neither
 * count. Any thread. */
uint64_t vd_pcap_out_written(const struct vd_pcap_out *o);

/* Records that failed: lost to a write error or refused while closed. Any
 * thread. */
uint64_t vd_pcap_out_errors(const struct vd_pcap_out *o);

/* Flushes, closes the file and frees o. NULL is accepted. No other thread
 * may use o any more. */
void vd_pcap_out_close(struct vd_pcap_out *o);

#endif
