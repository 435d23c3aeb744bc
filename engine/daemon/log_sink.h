/*
 * log_sink.h - where logged packets go: --log-json (a file or stdout) and
 * --log-pcap, shared by every worker of the daemon and by --replay.
 *
 * Each worker owns a vd_log_writer: records are formatted into its buffers
 * (one per output) on its own thread, with no lock, and each buffer is
 * written with one write() per batch (vd_log_writer_flush), under a lock
 * taken once for that write, so lines and pcap records from different
 * workers interleave only whole. A failed write (a full disk) drops that
 * batch's records and counts them: never a crash, never a stalled verdict.
 * vd_log_sink_reopen (SIGHUP) opens the files again for logrotate; records
 * still in a writer's buffers then go to the new files.
 *
 * Interface names in JSON lines come from each writer's own cache of
 * if_indextoname. An entry, a name or "no such interface", is used for
 * VD_LOG_IFNAME_TTL_NS at most, the clock read once per batch: a renamed
 * interface shows its new name about a second later.
 */
#ifndef VD_LOG_SINK_H
#define VD_LOG_SINK_H

#include <stdint.h>

#include <verdict/edit.h>
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

/* Hot path: one record (rule and verdict may be NULL; tag -1 for none),
 * formatted into the writer's buffer of each output, a buffer flushed first
 * when it is full. edit is the packet's edit, or NULL: when edits are
 * pending (vd_packet_edit_pending) the packet is recorded as rewritten, from
 * edit->pkt: the pcap record holds the rewritten bytes, the JSON line its
 * headers and new length with "rewritten", "rewrite" and "orig_len" (see
 * record_json.h); otherwise pkt as it is. No lock, no allocation; a syscall
 * only for a full buffer or an interface name not cached. On w's thread. */
void vd_log_writer_record(struct vd_log_writer *w, const struct vd_packet *pkt, const char *rule,
			  const struct vd_verdict *verdict, int64_t tag,
			  const struct vd_packet_edit *edit);

/* Writes what the buffers hold: one write() per output. Call at the end of
 * each batch. */
void vd_log_writer_flush(struct vd_log_writer *w);

#define VD_LOG_IFNAME_TTL_NS 1000000000ull

/* Where a writer gets interface names and the time from. */
struct vd_log_ifnames {
	/* Fills name (IF_NAMESIZE bytes, from <net/if.h>) and returns it;
	 * NULL when index names no interface. */
	char *(*lookup)(unsigned index, char *name, void *user);
	uint64_t (*now_ns)(void *user); /* monotonic nanoseconds */
	void *user;
};

/* Replaces w's source of names and time (for tests); NULL restores the
 * default, if_indextoname and CLOCK_MONOTONIC_COARSE. Empties w's cache. On
 * w's thread, between batches. */
void vd_log_writer_set_ifnames(struct vd_log_writer *w, const struct vd_log_ifnames *src);

void vd_log_writer_free(struct vd_log_writer *w); /* flushes first */

/* Reopens both files (logrotate). -1 with err filled when one fails: its
 * records are counted as errors until a later reopen succeeds. */
int vd_log_sink_reopen(struct vd_log_sink *s, char *err, size_t errlen);

/* Records written and records lost to write errors, both outputs summed. */
void vd_log_sink_counts(const struct vd_log_sink *s, uint64_t *written, uint64_t *errors);

#define VD_LOG_OUTPUTS 2

/* One output's records: written, and lost to write errors. */
struct vd_log_output_counts {
	const char *output; /* "json" or "pcap" */
	uint64_t written, errors;
};

/* The counts of each output s has open, --log-json's first, into out
 * (VD_LOG_OUTPUTS entries). Returns how many it filled. Any thread. */
size_t vd_log_sink_outputs(const struct vd_log_sink *s, struct vd_log_output_counts *out);

void vd_log_sink_close(struct vd_log_sink *s); /* NULL is a no-op */

#endif
