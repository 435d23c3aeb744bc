/*
 * replay_out.h - verdictd --replay --write-pcap: the packets that were not
 * dropped, written to a capture file in the input's order and link type,
 * rewritten where the rules rewrote them.
 *
 * One struct vd_replay_out is one output file, used by the replay's one
 * thread. Records are gathered in a buffer and written a buffer at a time;
 * every failure to write ends the replay (an offline run has no traffic to
 * keep going for).
 */
#ifndef VD_REPLAY_OUT_H
#define VD_REPLAY_OUT_H

#include <stddef.h>
#include <stdint.h>

#include <verdict/edit.h>
#include <verdict/packet.h>

#include "capture.h"

/* The largest packet an edit may leave for an output of link type dlt (a
 * DLT_* value): 65,535 bytes, the IPv4 total length's limit, except for
 * NFLOG, whose payload attribute's 16-bit length holds 4 bytes of header
 * (65,531, what the kernel takes in a verdict too). */
uint32_t vd_replay_out_capacity(int dlt);

struct vd_replay_out;

/* Creates (or truncates) path as a pcap file with c's link type, snaplen
 * 262144 (libpcap's largest, so that a link header and a 65,535-byte packet
 * always fit) and c's timestamp precision (nanoseconds when the input may
 * have them). NULL with one line in err ("--write-pcap PATH: cannot open for
 * writing: REASON"). The caller owns the result. */
struct vd_replay_out *vd_replay_out_open(const char *path, const struct vd_capture *c, char *err,
					 size_t errlen);

/* Appends the record c last returned, stamped with pkt's timestamp. Without
 * a pending edit it is copied byte for byte. With one, the IP packet is
 * replaced by edit->buf[0, edit->len) and the rest kept: the link header in
 * front (Ethernet with its VLAN tags, Linux cooked, BSD loopback), or for
 * NFLOG every attribute as it was, the payload attribute's length and
 * padding fitted to the new packet. Returns 0, or -1 with err filled when a
 * write failed ("--write-pcap PATH: write failed: REASON"). */
int vd_replay_out_write(struct vd_replay_out *o, const struct vd_capture *c,
			const struct vd_packet *pkt, const struct vd_packet_edit *edit, char *err,
			size_t errlen);

/* Writes what is gathered. Returns 0, or -1 with err filled as above. */
int vd_replay_out_flush(struct vd_replay_out *o, char *err, size_t errlen);

/* Records in the file so far (flushed). */
uint64_t vd_replay_out_written(const struct vd_replay_out *o);

/* Closes the file (without flushing: a failed replay leaves only whole
 * flushed records) and frees o. NULL is accepted. */
void vd_replay_out_close(struct vd_replay_out *o);

#endif
