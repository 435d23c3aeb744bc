/*
 * udpgen.c - UDP traffic generator and receiver in one process, for the
 * namespace tests and the benchmarks.
 *
 *   vd-udpgen --dst ADDR --port P [--src-base ADDR] [--flows N] [--count N]
 *             [--size BYTES] [--inflight N] [--rate PPS] [--duration SEC]
 *             [--drain-ms MS] [--tag BYTE] [--sport P] [--sndbuf BYTES] [--quiet]
 *
 * A sender thread sends --count packets round-robin over --flows sockets,
 * each bound to its own source address (--src-base + i), so that the
 * kernel's --queue-balance hash, which uses addresses, spreads the flows. A
 * receiver thread counts the packets of this run and measures one-way latency
 * from the timestamp each carries (same clock, same process).
 *
 * Payload: byte 0 tag, 1-3 magic, 4-7 run id, 8-15 sequence, 16-23 send time
 * (ns, CLOCK_MONOTONIC), the rest zero.
 *
 * Prints one line: sent= received= lost= elapsed_s= pps= p50_us= p99_us= max_us=
 * send_s= send_pps= min_us= (elapsed_s and pps count received packets up to the
 * last one; send_s and send_pps the sender's own time, for traffic nobody
 * receives; latencies to the microsecond bucket, min_us the earliest arrival)
 * Exit status: 0 when the run completed, 1 on a set-up error, 2 on bad arguments.
 * Every loop is bounded by --count and --duration.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FLOWS 256
#define SEND_BATCH 32
#define RECV_BATCH 64
#define MIN_SIZE 24
#define MAX_SIZE 65000
#define HIST_US 2000000 /* latency histogram: 1 us buckets up to 2 s (beyond: in the last) */
#define STALL_NS (20 * 1000000ll)
static const uint8_t MAGIC[3] = { 'v', 'd', 'g' };

struct options {
	const char *dst, *src_base;
	unsigned port, flows, size, inflight, sport, drain_ms, tag, sndbuf;
	unsigned long count;
	double rate, duration;
	bool quiet;
};

struct run {
	struct options o;
	struct sockaddr_storage dst;
	socklen_t dst_len;
	int family;
	uint32_t run_id;
	int rx_fd;
	int tx_fd[MAX_FLOWS];
	atomic_ulong sent, received;
	atomic_bool sending_done, stop_rx;
	atomic_llong last_rx_ns;
	int64_t start_ns;
	uint32_t hist[HIST_US + 1];
	uint64_t max_ns;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ll, .tv_nsec = ns % 1000000000ll };

	if (ns > 0)
		nanosleep(&ts, NULL);
}

static void usage_error(const char *what, const char *value)
{
	fprintf(stderr, "vd-udpgen: %s: \"%s\" (see the comment at the top of udpgen.c)\n", what,
		value ? value : "");
	exit(2);
}

/* Parses ADDR into ss with port; returns the family or -1. */
static int parse_addr(const char *s, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof(*in4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return AF_INET6;
	}
	return -1;
}

/* Adds i to the last bytes of the address in ss (flow i's source). */
static void addr_add(struct sockaddr_storage *ss, unsigned i)
{
	uint8_t *b;
	int n;

	if (ss->ss_family == AF_INET) {
		b = (uint8_t *)&((struct sockaddr_in *)ss)->sin_addr;
		n = 4;
	} else {
		b = ((struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
		n = 16;
	}
	for (int k = n - 1; k >= 0 && i; k--) {
		unsigned v = b[k] + (i & 0xff);
		b[k] = (uint8_t)v;
		i = (i >> 8) + (v >> 8);
	}
}

static unsigned long parse_num(const char *opt, const char *s, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		usage_error(opt, s);
	return v;
}

static double parse_real(const char *opt, const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= 0))
		usage_error(opt, s);
	return v;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{ "dst", 1, NULL, 'd' }, { "port", 1, NULL, 'p' }, { "src-base", 1, NULL, 'b' },
		{ "flows", 1, NULL, 'f' }, { "count", 1, NULL, 'c' }, { "size", 1, NULL, 's' },
		{ "inflight", 1, NULL, 'i' }, { "rate", 1, NULL, 'r' }, { "duration", 1, NULL, 'D' },
		{ "drain-ms", 1, NULL, 'w' }, { "tag", 1, NULL, 't' }, { "sport", 1, NULL, 'S' },
		{ "sndbuf", 1, NULL, 'B' }, { "quiet", 0, NULL, 'q' }, { NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ .flows = 1, .count = 100000, .size = 64, .inflight = 256,
			       .duration = 30, .drain_ms = 500 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'd': o->dst = optarg; break;
		case 'p': o->port = (unsigned)parse_num("--port", optarg, 1, 65535); break;
		case 'b': o->src_base = optarg; break;
		case 'f': o->flows = (unsigned)parse_num("--flows", optarg, 1, MAX_FLOWS); break;
		case 'c': o->count = parse_num("--count", optarg, 1, 1ul << 40); break;
		case 's': o->size = (unsigned)parse_num("--size", optarg, MIN_SIZE, MAX_SIZE); break;
		case 'i': o->inflight = (unsigned)parse_num("--inflight", optarg, 0, 1u << 24); break;
		case 'r': o->rate = parse_real("--rate", optarg); break;
		case 'D': o->duration = parse_real("--duration", optarg); break;
		case 'w': o->drain_ms = (unsigned)parse_num("--drain-ms", optarg, 0, 600000); break;
		case 't': o->tag = (unsigned)parse_num("--tag", optarg, 0, 255); break;
		case 'S': o->sport = (unsigned)parse_num("--sport", optarg, 1, 65535); break;
		/* Packets held in a queue count against their sender's buffer:
		 * more in flight than wmem_max allows needs SO_SNDBUFFORCE. */
		case 'B': o->sndbuf = (unsigned)parse_num("--sndbuf", optarg, 4096, 1u << 30); break;
		case 'q': o->quiet = true; break;
		default: usage_error("unknown option or missing value", argv[optind - 1]);
		}
	}
	if (!o->dst || !o->port)
		usage_error("--dst and --port are required", "");
	if (optind < argc)
		usage_error("unexpected argument", argv[optind]);
}

static int open_sockets(struct run *r)
{
	const struct options *o = &r->o;
	struct sockaddr_storage src;
	socklen_t src_len;
	int big = 8 << 20, one = 1;

	r->family = parse_addr(o->dst, o->port, &r->dst, &r->dst_len);
	if (r->family < 0)
		usage_error("--dst is not an IPv4 or IPv6 address", o->dst);
	r->rx_fd = socket(r->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	setsockopt(r->rx_fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	if (bind(r->rx_fd, (struct sockaddr *)&r->dst, r->dst_len) < 0) {
		fprintf(stderr, "vd-udpgen: cannot listen on %s port %u: %s\n", o->dst, o->port,
			strerror(errno));
		return -1;
	}
	if (o->src_base && parse_addr(o->src_base, 0, &src, &src_len) != r->family)
		usage_error("--src-base is not an address of the --dst family", o->src_base);
	for (unsigned i = 0; i < o->flows; i++) {
		int fd = socket(r->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		r->tx_fd[i] = fd;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (o->sndbuf && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &o->sndbuf,
					    sizeof(o->sndbuf)) < 0) {
			fprintf(stderr, "vd-udpgen: --sndbuf: %s\n", strerror(errno));
			return -1;
		}
		if (o->src_base || o->sport) {
			struct sockaddr_storage a = src;
			if (!o->src_base)
				parse_addr(r->family == AF_INET ? "0.0.0.0" : "::", 0, &a, &src_len);
			addr_add(&a, o->src_base ? i : 0);
			((struct sockaddr_in *)&a)->sin_port = htons((uint16_t)(o->sport ? o->sport + (o->src_base ? 0 : i) : 0));
			if (bind(fd, (struct sockaddr *)&a, src_len) < 0) {
				fprintf(stderr, "vd-udpgen: flow %u: cannot bind its source address: %s\n",
					i, strerror(errno));
				return -1;
			}
		}
		if (connect(fd, (struct sockaddr *)&r->dst, r->dst_len) < 0) {
			fprintf(stderr, "vd-udpgen: flow %u: cannot connect to %s: %s\n", i, o->dst,
				strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void record_latency(struct run *r, const uint8_t *p, int64_t now)
{
	int64_t sent_at;
	uint64_t ns;

	memcpy(&sent_at, p + 16, sizeof(sent_at));
	ns = now > sent_at ? (uint64_t)(now - sent_at) : 0;
	if (ns > r->max_ns)
		r->max_ns = ns;
	r->hist[ns / 1000 < HIST_US ? ns / 1000 : HIST_US]++;
}

static void *receiver(void *arg)
{
	struct run *r = arg;
	static uint8_t bufs[RECV_BATCH][2048];
	struct mmsghdr msgs[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	struct timeval tv = { .tv_sec = 0, .tv_usec = 20000 };

	setsockopt(r->rx_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < RECV_BATCH; i++) {
		iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = sizeof(bufs[i]) };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while (!atomic_load(&r->stop_rx)) {
		int n = recvmmsg(r->rx_fd, msgs, RECV_BATCH, MSG_WAITFORONE, NULL);
		int64_t now = now_ns();
		unsigned long mine = 0;

		for (int i = 0; i < n; i++) {
			const uint8_t *p = bufs[i];
			uint32_t id;

			memcpy(&id, p + 4, sizeof(id));
			if (msgs[i].msg_len < MIN_SIZE || memcmp(p + 1, MAGIC, 3) || id != r->run_id)
				continue; /* not ours */
			record_latency(r, p, now);
			mine++;
		}
		if (mine) {
			atomic_fetch_add(&r->received, mine);
			atomic_store(&r->last_rx_ns, now);
		}
	}
	return NULL;
}

/* Waits while the window is full; a window stuck for STALL_NS is presumed
 * lost and released, so that dropped packets cannot stall the sender. */
static void wait_window(struct run *r, unsigned long *released, int64_t deadline)
{
	unsigned long last = atomic_load(&r->received);
	int64_t since = now_ns();

	while (r->o.inflight && atomic_load(&r->sent) - atomic_load(&r->received) - *released >=
					r->o.inflight) {
		unsigned long got = atomic_load(&r->received);
		int64_t now = now_ns();

		if (got != last) {
			last = got;
			since = now;
		} else if (now - since > STALL_NS || now > deadline) {
			*released = atomic_load(&r->sent) - got;
			return;
		}
		sched_yield();
	}
}

static void sender(struct run *r)
{
	const struct options *o = &r->o;
	static uint8_t payload[SEND_BATCH][MAX_SIZE];
	struct mmsghdr msgs[SEND_BATCH];
	struct iovec iov[SEND_BATCH];
	int64_t deadline = r->start_ns + (int64_t)(o->duration * 1e9);
	unsigned long released = 0, seq = 0;
	unsigned flow = 0;

	for (int i = 0; i < SEND_BATCH; i++) {
		payload[i][0] = (uint8_t)o->tag;
		memcpy(payload[i] + 1, MAGIC, 3);
		memcpy(payload[i] + 4, &r->run_id, 4);
		iov[i] = (struct iovec){ .iov_base = payload[i], .iov_len = o->size };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while (seq < o->count && now_ns() < deadline) {
		unsigned want = SEND_BATCH;
		int n;

		if (o->count - seq < want)
			want = (unsigned)(o->count - seq);
		if (o->inflight && o->inflight < want)
			want = o->inflight;
		if (o->rate > 0)
			sleep_ns(r->start_ns + (int64_t)((double)seq * 1e9 / o->rate) - now_ns());
		wait_window(r, &released, deadline);
		for (unsigned i = 0; i < want; i++) {
			uint64_t s = seq + i;
			int64_t t = now_ns();
			memcpy(payload[i] + 8, &s, 8);
			memcpy(payload[i] + 16, &t, 8);
		}
		n = sendmmsg(r->tx_fd[flow], msgs, want, 0);
		if (n < 0) {
			if (errno != EAGAIN && errno != ENOBUFS && errno != EPERM && errno != EINTR) {
				fprintf(stderr, "vd-udpgen: send failed: %s\n", strerror(errno));
				break;
			}
			/* EPERM: a rule dropped it at output (NF_DROP). Count it sent. */
			n = errno == EPERM ? (int)1 : 0;
		}
		seq += (unsigned)n;
		atomic_store(&r->sent, seq);
		flow = (flow + 1) % o->flows;
	}
}

static double percentile_us(const struct run *r, unsigned long total, double q)
{
	unsigned long want = (unsigned long)(q * (double)total), seen = 0;

	for (unsigned i = 0; i <= HIST_US; i++) {
		seen += r->hist[i];
		if (seen > want)
			return i + 0.5;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct run r;
	pthread_t rx;
	int64_t drain_end;
	unsigned long sent, received;
	double elapsed, send_s;

	parse_options(argc, argv, &r.o);
	r.run_id = (uint32_t)getpid() ^ (uint32_t)now_ns();
	if (open_sockets(&r) < 0)
		return 1;
	if (pthread_create(&rx, NULL, receiver, &r) != 0) {
		fprintf(stderr, "vd-udpgen: cannot start the receiver thread\n");
		return 1;
	}
	r.start_ns = now_ns();
	atomic_store(&r.last_rx_ns, r.start_ns);
	sender(&r);
	send_s = (double)(now_ns() - r.start_ns) / 1e9;
	drain_end = now_ns() + (int64_t)r.o.drain_ms * 1000000ll;
	while (atomic_load(&r.received) < atomic_load(&r.sent) && now_ns() < drain_end)
		sleep_ns(1000000);
	atomic_store(&r.stop_rx, true);
	pthread_join(rx, NULL);

	sent = atomic_load(&r.sent);
	received = atomic_load(&r.received);
	elapsed = (double)(atomic_load(&r.last_rx_ns) - r.start_ns) / 1e9;
	printf("sent=%lu received=%lu lost=%lu elapsed_s=%.6f pps=%.0f p50_us=%.1f p99_us=%.1f "
	       "max_us=%.1f send_s=%.6f send_pps=%.0f min_us=%.1f\n",
	       sent, received, sent > received ? sent - received : 0, elapsed,
	       elapsed > 0 ? (double)received / elapsed : 0, percentile_us(&r, received, 0.5),
	       percentile_us(&r, received, 0.99), (double)r.max_ns / 1000, send_s,
	       send_s > 0 ? (double)sent / send_s : 0, percentile_us(&r, received, 0.0));
	if (!r.o.quiet)
		fprintf(stderr, "vd-udpgen: %lu flows to %s port %u, %u-byte payloads\n",
			(unsigned long)r.o.flows, r.o.dst, r.o.port, r.o.size);
	return 0;
}
