/*
 * log_sink.c - JSON lines and pcap outputs for logged packets (log_sink.h).
 *
 * Both outputs take the same path: each writer formats records into a
 * buffer of its own per output and hands a batch over at once, JSON lines to
 * the sink's file under the sink's lock, pcap records to
 * vd_pcap_out_append, which locks once per batch too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "log_sink.h"
#include "record_json.h"

#define JSON_BUFFER (256u << 10)
#define JSON_RECORD_MAX 2048
/* Holds a batch of 64 full-size Ethernet packets, and always one record. */
#define PCAP_BUFFER (256u << 10)
#define IFNAME_CACHE 64

_Static_assert(PCAP_BUFFER >= VD_PCAP_RECORD_MAX, "a pcap buffer holds any record");

struct vd_log_sink {
	char *json_path, *pcap_path;
	int json_fd;             /* -1: none (or a failed reopen) */
	bool json_stdout;
	struct vd_pcap_out *pcap;
	pthread_mutex_t lock;    /* serializes json writes and reopen */
	_Atomic uint64_t written, errors; /* JSON lines; pcap_out counts its own */
	_Atomic int json_reported, pcap_reported; /* one line per failure streak */
};

/* One output's records of the current batch. */
struct log_buffer {
	char *data;              /* NULL: the output is off */
	size_t size, len;
	unsigned records;
};

/*
 * Why entries expire rather than follow rtnetlink's link notifications: the
 * cache belongs to one writer and only its thread touches it, so it needs no
 * lock. Notifications would need a socket polled by the main thread and a
 * way into every worker's cache (a table under RCU, or a generation count
 * each worker checks), all for a name that is at worst a second late. The
 * price is one if_indextoname (a socket and an ioctl) per interface in use,
 * per writer, per second; an index with no interface is remembered as such
 * for as long, so a stream of packets from it costs no more.
 */
struct ifname {
	uint32_t index;
	uint64_t expires;        /* 0: an empty entry */
	char name[IF_NAMESIZE];  /* "": no such interface */
};

struct ifname_cache {
	struct vd_log_ifnames source;
	uint64_t now;            /* the clock, read at the first lookup of a batch */
	bool stale;              /* a batch ended: read the clock again */
	struct ifname entries[IFNAME_CACHE];
};

struct vd_log_writer {
	struct vd_log_sink *sink;
	struct log_buffer json, pcap;
	struct ifname_cache names;
};

static int json_open(struct vd_log_sink *s, char *err, size_t errlen)
{
	if (!s->json_path)
		return 0;
	if (s->json_stdout) {
		s->json_fd = STDOUT_FILENO;
		return 0;
	}
	s->json_fd = open(s->json_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (s->json_fd < 0) {
		snprintf(err, errlen, "--log-json %s: cannot open for writing: %s", s->json_path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

struct vd_log_sink *vd_log_sink_open(const char *json_path, const char *pcap_path,
				     enum vd_pcap_linktype linktype, char *err, size_t errlen)
{
	struct vd_log_sink *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "logging: out of memory");
		return NULL;
	}
	s->json_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	s->json_path = json_path ? strdup(json_path) : NULL;
	s->pcap_path = pcap_path ? strdup(pcap_path) : NULL;
	s->json_stdout = json_path && strcmp(json_path, "-") == 0;
	if (json_open(s, err, errlen) < 0)
		goto fail;
	if (pcap_path) {
		char why[400];

		s->pcap = vd_pcap_out_open(pcap_path, linktype, why, sizeof(why));
		if (!s->pcap) {
			snprintf(err, errlen, "--log-pcap %s", why);
			goto fail;
		}
	}
	return s;
fail:
	vd_log_sink_close(s);
	return NULL;
}

static char *ifname_lookup_default(unsigned index, char *name, void *user)
{
	(void)user;
	return if_indextoname(index, name);
}

/* CLOCK_MONOTONIC_COARSE: a vDSO read of the last tick, plenty for a TTL of
 * a second. */
static uint64_t ifname_now_default(void *user)
{
	struct timespec ts;

	(void)user;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void vd_log_writer_set_ifnames(struct vd_log_writer *w, const struct vd_log_ifnames *src)
{
	static const struct vd_log_ifnames defaults = { ifname_lookup_default, ifname_now_default,
							NULL };

	memset(&w->names, 0, sizeof(w->names));
	w->names.source = src ? *src : defaults;
	w->names.stale = true;
}

struct vd_log_writer *vd_log_writer_new(struct vd_log_sink *s)
{
	struct vd_log_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->sink = s;
	w->json.size = s->json_path ? JSON_BUFFER : 0;
	w->pcap.size = s->pcap ? PCAP_BUFFER : 0;
	if ((w->json.size && !(w->json.data = malloc(w->json.size))) ||
	    (w->pcap.size && !(w->pcap.data = malloc(w->pcap.size)))) {
		free(w->json.data);
		free(w);
		return NULL;
	}
	vd_log_writer_set_ifnames(w, NULL);
	return w;
}

static void report_failure(_Atomic int *reported, const char *what, int err)
{
	if (atomic_exchange(reported, 1) == 0)
		vd_log(VD_LOG_ERROR, "%s: write failed: %s; records are dropped and counted "
		       "until writes succeed again", what, strerror(err));
}

/* A write succeeded: the next failure is reported again. Read first, so
 * that workers do not all write the shared flag after every batch. */
static void report_success(_Atomic int *reported)
{
	if (atomic_load_explicit(reported, memory_order_relaxed))
		atomic_store(reported, 0);
}

/* The batch's JSON lines with one write (more only after a short write),
 * under the sink's lock so that a reopen cannot swap the file under it. */
static void json_flush(struct vd_log_writer *w)
{
	struct vd_log_sink *s = w->sink;
	size_t off = 0;
	int err = 0;

	pthread_mutex_lock(&s->lock);
	while (off < w->json.len && s->json_fd >= 0) {
		ssize_t n = write(s->json_fd, w->json.data + off, w->json.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			break;
		}
		off += (size_t)n;
	}
	if (s->json_fd < 0)
		err = EBADF;
	pthread_mutex_unlock(&s->lock);
	if (err) {
		atomic_fetch_add(&s->errors, w->json.records);
		report_failure(&s->json_reported, s->json_path, err);
	} else {
		atomic_fetch_add(&s->written, w->json.records);
		report_success(&s->json_reported);
	}
}

/* The batch's pcap records: vd_pcap_out_append counts them. */
static void pcap_flush(struct vd_log_writer *w)
{
	struct vd_log_sink *s = w->sink;

	if (vd_pcap_out_append(s->pcap, w->pcap.data, w->pcap.len, w->pcap.records) < 0)
		report_failure(&s->pcap_reported, s->pcap_path, errno);
	else
		report_success(&s->pcap_reported);
}

void vd_log_writer_flush(struct vd_log_writer *w)
{
	if (w->pcap.len)
		pcap_flush(w);
	if (w->json.len)
		json_flush(w);
	w->pcap.len = w->json.len = 0;
	w->pcap.records = w->json.records = 0;
	w->names.stale = true;
}

/* The name of interface index, from the cache while its entry is younger
 * than VD_LOG_IFNAME_TTL_NS; NULL when there is none or no meta bit. */
static const char *ifname(struct vd_log_writer *w, const struct vd_packet *pkt, uint32_t bit,
			  uint32_t index)
{
	struct ifname_cache *c = &w->names;
	struct ifname *e = &c->entries[index % IFNAME_CACHE];

	if (!(pkt->meta & bit) || pkt->source == VD_SOURCE_REPLAY)
		return NULL;
	if (c->stale) {
		c->now = c->source.now_ns(c->source.user);
		c->stale = false;
	}
	if (e->expires == 0 || e->index != index || c->now >= e->expires) {
		e->index = index;
		e->expires = c->now + VD_LOG_IFNAME_TTL_NS;
		if (!c->source.lookup(index, e->name, c->source.user))
			e->name[0] = '\0';
	}
	return e->name[0] ? e->name : NULL;
}

static void json_record(struct vd_log_writer *w, const struct vd_packet *pkt,
			struct vd_record_info *info)
{
	size_t n;

	if (w->json.size - w->json.len < JSON_RECORD_MAX)
		vd_log_writer_flush(w);
	info->indev = ifname(w, pkt, VD_META_INDEV, pkt->indev);
	info->outdev = ifname(w, pkt, VD_META_OUTDEV, pkt->outdev);
	n = vd_record_json(w->json.data + w->json.len, JSON_RECORD_MAX, pkt, info);
	if (n) {
		w->json.len += n;
		w->json.records++;
	} else {
		atomic_fetch_add(&w->sink->errors, 1);
	}
}

static void pcap_record(struct vd_log_writer *w, const struct vd_packet *pkt, const char *rule)
{
	struct vd_pcap_out *o = w->sink->pcap;
	size_t n = vd_pcap_out_record(o, w->pcap.data + w->pcap.len, w->pcap.size - w->pcap.len,
				      pkt, rule);

	if (!n) { /* the buffer is full: the batch so far goes out first */
		vd_log_writer_flush(w);
		n = vd_pcap_out_record(o, w->pcap.data, w->pcap.size, pkt, rule);
	}
	w->pcap.len += n;
	w->pcap.records++;
}

void vd_log_writer_record(struct vd_log_writer *w, const struct vd_packet *pkt, const char *rule,
			  const struct vd_verdict *verdict, int64_t tag,
			  const struct vd_packet_edit *edit)
{
	struct vd_record_info info = { .rule = rule, .verdict = verdict, .tag = tag };

	/* The view in step with the edit is the packet as it went on: both
	 * outputs record that one. */
	if (vd_packet_edit_pending(edit) && edit->pkt) {
		pkt = edit->pkt;
		info.edit = edit;
	}

	if (w->json.data)
		json_record(w, pkt, &info);
	if (w->pcap.data)
		pcap_record(w, pkt, rule);
}

void vd_log_writer_free(struct vd_log_writer *w)
{
	if (!w)
		return;
	vd_log_writer_flush(w);
	free(w->json.data);
	free(w->pcap.data);
	free(w);
}

int vd_log_sink_reopen(struct vd_log_sink *s, char *err, size_t errlen)
{
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	if (s->json_path && !s->json_stdout) {
		if (s->json_fd >= 0)
			close(s->json_fd);
		ret = json_open(s, err, errlen);
	}
	pthread_mutex_unlock(&s->lock);
	if (s->pcap && vd_pcap_out_reopen(s->pcap, err, errlen) < 0)
		ret = -1;
	return ret;
}

void vd_log_sink_counts(const struct vd_log_sink *s, uint64_t *written, uint64_t *errors)
{
	*written = atomic_load(&s->written);
	*errors = atomic_load(&s->errors);
	if (s->pcap) {
		*written += vd_pcap_out_written(s->pcap);
		*errors += vd_pcap_out_errors(s->pcap);
	}
}

size_t vd_log_sink_outputs(const struct vd_log_sink *s, struct vd_log_output_counts *out)
{
	size_t n = 0;

	if (s->json_path)
		out[n++] = (struct vd_log_output_counts){ .output = "json",
							  .written = atomic_load(&s->written),
							  .errors = atomic_load(&s->errors) };
	if (s->pcap)
		out[n++] = (struct vd_log_output_counts){ .output = "pcap",
							  .written = vd_pcap_out_written(s->pcap),
							  .errors = vd_pcap_out_errors(s->pcap) };
	return n;
}

void vd_log_sink_close(struct vd_log_sink *s)
{
	if (!s)
		return;
	if (s->json_fd >= 0 && !s->json_stdout)
		close(s->json_fd);
	vd_pcap_out_close(s->pcap);
	pthread_mutex_destroy(&s->lock);
	free(s->json_path);
	free(s->pcap_path);
	free(s);
}
