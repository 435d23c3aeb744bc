/*
 * log_sink.c - JSON lines and pcap outputs for logged packets (log_sink.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "log_sink.h"
#include "record_json.h"

#define WRITER_BUFFER (256u << 10)
#define RECORD_MAX 2048
#define IFNAME_CACHE 64

struct vd_log_sink {
	char *json_path, *pcap_path;
	int json_fd;             /* -1: none (or a failed reopen) */
	bool json_stdout;
	struct vd_pcap_out *pcap;
	pthread_mutex_t lock;    /* serializes json writes and reopen */
	_Atomic uint64_t written, errors;
	_Atomic int reported;    /* one line per failure streak */
};

struct ifname {
	uint32_t index;
	char name[IF_NAMESIZE];
};

struct vd_log_writer {
	struct vd_log_sink *sink;
	size_t len;
	unsigned records;
	unsigned pcap_pending;   /* pcap records since the last flush */
	struct ifname names[IFNAME_CACHE]; /* if_indextoname is an ioctl: cache it */
	char buf[WRITER_BUFFER];
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

struct vd_log_writer *vd_log_writer_new(struct vd_log_sink *s)
{
	struct vd_log_writer *w = calloc(1, sizeof(*w));

	if (w)
		w->sink = s;
	return w;
}

static void report_failure(struct vd_log_sink *s, const char *what, int err)
{
	if (atomic_exchange(&s->reported, 1) == 0)
		vd_log(VD_LOG_ERROR, "%s: write failed: %s; records are dropped and counted "
		       "until writes succeed again", what, strerror(err));
}

void vd_log_writer_flush(struct vd_log_writer *w)
{
	struct vd_log_sink *s = w->sink;
	size_t off = 0;
	int err = 0;

	if (w->pcap_pending) {
		/* Once per batch, so a crash or a full disk loses at most a batch. */
		if (vd_pcap_out_flush(s->pcap) < 0)
			report_failure(s, s->pcap_path, errno);
		w->pcap_pending = 0;
	}
	if (w->len == 0)
		return;
	pthread_mutex_lock(&s->lock);
	while (off < w->len && s->json_fd >= 0) {
		ssize_t n = write(s->json_fd, w->buf + off, w->len - off);

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
		atomic_fetch_add(&s->errors, w->records);
		report_failure(s, s->json_path, err);
	} else {
		atomic_fetch_add(&s->written, w->records);
		atomic_store(&s->reported, 0);
	}
	w->len = 0;
	w->records = 0;
}

static const char *ifname(struct vd_log_writer *w, const struct vd_packet *pkt, uint32_t bit,
			  uint32_t index)
{
	struct ifname *e = &w->names[index % IFNAME_CACHE];

	if (!(pkt->meta & bit) || pkt->source == VD_SOURCE_REPLAY)
		return NULL;
	if (e->index != index || !e->name[0]) {
		e->index = index;
		if (!if_indextoname(index, e->name))
			e->name[0] = '\0';
	}
	return e->name[0] ? e->name : NULL;
}

void vd_log_writer_record(struct vd_log_writer *w, const struct vd_packet *pkt, const char *rule,
			  const struct vd_verdict *verdict, int64_t tag)
{
	struct vd_log_sink *s = w->sink;
	struct vd_record_info info = { .rule = rule, .verdict = verdict, .tag = tag };

	if (s->json_path) {
		size_t n;

		if (WRITER_BUFFER - w->len < RECORD_MAX)
			vd_log_writer_flush(w);
		info.indev = ifname(w, pkt, VD_META_INDEV, pkt->indev);
		info.outdev = ifname(w, pkt, VD_META_OUTDEV, pkt->outdev);
		n = vd_record_json(w->buf + w->len, RECORD_MAX, pkt, &info);
		if (n) {
			w->len += n;
			w->records++;
		} else {
			atomic_fetch_add(&s->errors, 1);
		}
	}
	if (s->pcap) {
		if (vd_pcap_out_write(s->pcap, pkt, rule) < 0)
			report_failure(s, s->pcap_path, errno);
		w->pcap_pending++;
	}
}

void vd_log_writer_free(struct vd_log_writer *w)
{
	if (!w)
		return;
	vd_log_writer_flush(w);
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
	if (s->pcap) {
		if (vd_pcap_out_flush(s->pcap) < 0)
			report_failure(s, s->pcap_path, errno);
		if (vd_pcap_out_reopen(s->pcap, err, errlen) < 0)
			ret = -1;
	}
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
