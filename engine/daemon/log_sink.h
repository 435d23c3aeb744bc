/*
 * log_sink.h - where logged packets go: --log-json (a file or stdout) and
 * --log-pcap, shared by every worker of the daemon and by --replay.
 *
 * Each worker owns a vd_log_writer: records are formatted into its buffer on
 * its own thread and written with one write() per batch (vd_log_writer_flush),
 * under the sink's lock, so lines from different workers never interleave.
 * A failed write (a full disk) drops that batch's lines and counts them:
 * never a crash, never a stalled verdict. vd_log_sink_reopen (SIGHUP) opens
 * the files again for logrotate.
 */
#ifndef VD_LOG_SINK_H
#define VD_LOG_SINK_H

#include <stdint.h>

#include <verdict/packet.h>
#include <verdict/verdict.h>

#include "pcap_out.h"

struct vd_log_sink;
struct vd_log_writer;

/* Opens the outputs (either path may be NULL; json_path "-" is stdout). NULL
 * with one line in err naming the path when one cannot be opened. */
struct vd_log_sink *vd_log_sink_open(const char *json_path, const char *pcap_path,
				     enum vd_pcap_linktype linktype, char *err, size_t errlen);

/* A writer for one thread. NULL on no memory. */
struct vd_log_writer *vd_log_writer_new(struct vd_log_sink *s);

/* Hot path: one record (rule and verdict may be NULL; tag -1 for none).
 * Formats into the writer's buffer (flushing first when it is full) and
 * writes the pcap record. */
void vd_log_writer_record(struct vd_log_writer *w, const struct vd_packet *pkt, const char *rule,
			  const struct vd_verdict *verdict, int64_t tag);

/* Writes what the buffer holds: one write(). Call at the end of each batch. */
void vd_log_writer_flush(struct vd_log_writer *w);

void vd_log_writer_free(struct vd_log_writer *w); /* flushes first */

/* Reopens both files (logrotate). -1 with err filled when one fails: its
 * records are counted as errors until a later reopen succeeds. */
int vd_log_sink_reopen(struct vd_log_sink *s, char *err, size_t errlen);

/* Records written and records lost to write errors, both outputs summed. */
void vd_log_sink_counts(const struct vd_log_sink *s, uint64_t *written, uint64_t *errors);

void vd_log_sink_close(struct vd_log_sink *s); /* NULL is a no-op */

#endif
