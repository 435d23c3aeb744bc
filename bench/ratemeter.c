/*
 * ratemeter.c - paced UDP sender and timestamping receiver, for the shaping
 * rows of scripts/bench.sh: the rate a shaper let through, and the largest
 * burst it let through in any short window. vd-udpgen measures latency and
 * counts; it keeps no arrival times, so it cannot tell a burst.
 *
 *   vd-ratemeter --dst IPV4 --port P --size BYTES --rate PPS --duration SEC
 *                [--overhead BYTES] [--window-ms MS]
 *
 * One socket sends --rate packets/s of --size payload bytes for --duration
 * seconds (open loop; a send refused for lack of buffer or by a qdisc is
 * counted sent and lost), a receiver thread takes the kernel's receive time
 * of each (SO_TIMESTAMPNS). Each packet counts --size + --overhead bytes
 * (28 by default: IPv4 and UDP headers, what verdictd's rate counts; tc on lo
 * also counts the 14-byte Ethernet header).
 *
 * Prints one line: sent= received= achieved_bps= (over the second half of
 * the arrivals, past the first burst) max_window_bytes= (most bytes that
 * arrived within any --window-ms, 10 by default) window_ms= span_s=
 * Exit status: 0 when the run completed, 1 on a set-up error, 2 on bad arguments.
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

#define MAX_PACKETS (1ul << 24)
#define RECV_BATCH 64
#define MAX_SIZE 60000
#define BUF_BYTES (64 << 20)

struct options {
	const char *dst;
	unsigned port, size, overhead, window_ms;
	double rate, duration;
};

struct meter {
	struct options o;
	int tx_fd, rx_fd;
	int64_t *arrivals; /* kernel receive times, ns, in arrival order */
	unsigned long narrivals, capacity;
	atomic_bool stop;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void usage_error(const char *what, const char *value)
{
	fprintf(stderr, "vd-ratemeter: %s: \"%s\" (see the comment at the top of ratemeter.c)\n",
		what, value);
	exit(2);
}

static double parse_real(const char *opt, const char *s, double min, double max)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= min && v <= max))
		usage_error(opt, s);
	return v;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{ "dst", required_argument, NULL, 'd' },      { "port", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 's' },     { "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'D' }, { "overhead", required_argument, NULL, 'o' },
		{ "window-ms", required_argument, NULL, 'w' }, { NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ .overhead = 28, .window_ms = 10 };
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'd': o->dst = optarg; break;
		case 'p': o->port = (unsigned)parse_real("--port", optarg, 1, 65535); break;
		case 's': o->size = (unsigned)parse_real("--size", optarg, 1, MAX_SIZE); break;
		case 'r': o->rate = parse_real("--rate", optarg, 1, 1e7); break;
		case 'D': o->duration = parse_real("--duration", optarg, 0.01, 600); break;
		case 'o': o->overhead = (unsigned)parse_real("--overhead", optarg, 0, 1000); break;
		case 'w': o->window_ms = (unsigned)parse_real("--window-ms", optarg, 1, 10000); break;
		default: usage_error("unknown option or missing value", argv[optind - 1]);
		}
	}
	if (!o->dst || !o->port || !o->size || o->rate <= 0 || o->duration <= 0)
		usage_error("--dst, --port, --size, --rate and --duration are required", "");
	if (optind < argc)
		usage_error("unexpected argument", argv[optind]);
}

/* Both sockets on dst:port and a free port; buffers forced large, so that
 * what a shaper holds never blocks the open-loop sender. */
static int open_sockets(struct meter *m)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)m->o.port) };
	int one = 1, big = BUF_BYTES;

	if (inet_pton(AF_INET, m->o.dst, &a.sin_addr) != 1)
		usage_error("--dst is not an IPv4 address", m->o.dst);
	m->rx_fd = socket(AF_INET, SOCK_DGRAM, 0);
	m->tx_fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (m->rx_fd < 0 || m->tx_fd < 0 ||
	    setsockopt(m->rx_fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0 ||
	    setsockopt(m->rx_fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0 ||
	    setsockopt(m->tx_fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0) {
		fprintf(stderr, "vd-ratemeter: cannot set up the sockets: %s\n", strerror(errno));
		return -1;
	}
	if (bind(m->rx_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    connect(m->tx_fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "vd-ratemeter: cannot use %s port %u: %s\n", m->o.dst, m->o.port,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int64_t packet_time(struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
		}
	}
	return now_ns();
}

static void *receiver(void *arg)
{
	struct meter *m = arg;
	static uint8_t bufs[RECV_BATCH][2048];
	static char ctl[RECV_BATCH][CMSG_SPACE(sizeof(struct timespec))];
	struct mmsghdr msgs[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	struct timeval tv = { .tv_sec = 0, .tv_usec = 20000 };

	setsockopt(m->rx_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (!atomic_load(&m->stop)) {
		int n;

		for (int i = 0; i < RECV_BATCH; i++) {
			iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = sizeof(bufs[i]) };
			msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1,
								 .msg_control = ctl[i],
								 .msg_controllen = sizeof(ctl[i]) } };
		}
		n = recvmmsg(m->rx_fd, msgs, RECV_BATCH, MSG_WAITFORONE, NULL);
		for (int i = 0; i < n && m->narrivals < m->capacity; i++)
			m->arrivals[m->narrivals++] = packet_time(&msgs[i].msg_hdr);
	}
	return NULL;
}

static void sleep_until(int64_t t)
{
	int64_t d = t - now_ns();
	struct timespec ts;

	if (d <= 0)
		return;
	ts = (struct timespec){ .tv_sec = d / 1000000000ll, .tv_nsec = d % 1000000000ll };
	nanosleep(&ts, NULL);
}

static unsigned long send_paced(struct meter *m)
{
	static uint8_t payload[MAX_SIZE];
	unsigned long count = (unsigned long)(m->o.rate * m->o.duration), seq;
	int64_t start = now_ns();

	for (seq = 0; seq < count; seq++) {
		sleep_until(start + (int64_t)((double)seq * 1e9 / m->o.rate));
		/* Refused (full buffer, a qdisc's drop, NF_DROP): sent and lost. */
		if (send(m->tx_fd, payload, m->o.size, MSG_DONTWAIT) < 0 && errno != EAGAIN &&
		    errno != ENOBUFS && errno != EPERM && errno != EINTR) {
			fprintf(stderr, "vd-ratemeter: send failed: %s\n", strerror(errno));
			break;
		}
	}
	return seq;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void report(const struct meter *m, unsigned long sent)
{
	const int64_t *t = m->arrivals, w = (int64_t)m->o.window_ms * 1000000ll;
	unsigned long n = m->narrivals, k = 0, best = 0, i = 0;
	double per = m->o.size + m->o.overhead, bps = 0, span = 0;

	if (n >= 2) {
		int64_t mid = t[0] + (t[n - 1] - t[0]) / 2;

		while (k < n - 1 && t[k] < mid)
			k++;
		if (t[n - 1] > t[k])
			bps = (double)(n - 1 - k) * per * 8e9 / (double)(t[n - 1] - t[k]);
		span = (double)(t[n - 1] - t[0]) / 1e9;
	}
	for (unsigned long j = 0; j < n; j++) {
		while (t[j] - t[i] >= w)
			i++;
		if (j - i + 1 > best)
			best = j - i + 1;
	}
	printf("sent=%lu received=%lu achieved_bps=%.0f max_window_bytes=%.0f window_ms=%u span_s=%.3f\n",
	       sent, n, bps, (double)best * per, m->o.window_ms, span);
}

int main(int argc, char **argv)
{
	static struct meter m;
	pthread_t rx;
	unsigned long sent;

	parse_options(argc, argv, &m.o);
	m.capacity = (unsigned long)(m.o.rate * m.o.duration) + 1;
	if (m.capacity > MAX_PACKETS)
		usage_error("--rate times --duration is above 16M packets", "");
	m.arrivals = calloc(m.capacity, sizeof(*m.arrivals));
	if (!m.arrivals || open_sockets(&m) < 0) {
		fprintf(stderr, "vd-ratemeter: set-up failed\n");
		return 1;
	}
	if (pthread_create(&rx, NULL, receiver, &m) != 0) {
		fprintf(stderr, "vd-ratemeter: cannot start the receiver thread\n");
		return 1;
	}
	sent = send_paced(&m);
	sleep_until(now_ns() + 300 * 1000000ll); /* what a shaper still holds */
	atomic_store(&m.stop, true);
	pthread_join(rx, NULL);
	/* Receive times of one socket are in order already; sorted to be sure. */
	qsort(m.arrivals, m.narrivals, sizeof(*m.arrivals), cmp_i64);
	report(&m, sent);
	free(m.arrivals);
	close(m.tx_fd);
	close(m.rx_fd);
	return 0;
}
