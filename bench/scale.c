/*
 * scale.c - vd-scale: how big rule tables load and match, offline.
 *
 *   vd-scale [--quick]
 *
 * Writes each table to a temporary directory and loads it in a child
 * process of its own, so that the child's peak resident memory
 * (getrusage ru_maxrss) is the load's alone:
 *   load-ports-100k  100,000 named port rules, `verdictd --check`'s path
 *                    (vd_rules_check, summary to /dev/null)
 *   load-src-60k     60,000 rules with distinct IPv4 source addresses, the same
 *   load-set-1m      one rule matching a set of 1,000,000 IPv4 prefixes (/24 to
 *                    /32) that the file builds in a Lua loop, through
 *                    vd_rules_open as the daemon loads it (with a large Lua
 *                    instruction budget and memory limit for the loop)
 *   (set-1m, too)    then, in the same child: vd_rules_eval of UDP packets
 *                    whose source address is rewritten before each one, half
 *                    from the set's prefixes and half anywhere (no locality:
 *                    every lookup is a random walk of the index, while the
 *                    packet itself is in cache as a just-received one is);
 *                    best of 3 rounds, CPU time per packet
 * --quick divides the sizes by 10 (CI proves the program runs).
 * One line per row on stdout: "row=NAME seconds=S max_rss_kib=K" or
 * "row=NAME ns_per_packet=X pps=Y".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <verdict/packet.h>
#include <verdict/queue.h> /* VD_ERRBUF_SIZE */
#include <verdict/rules.h>

#include "rcu.h"

#define CORPUS 1024
#define PKT_BYTES 64

static char workdir[64];
static unsigned divisor = 1;

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall-clock time, and the process's CPU time: on a machine shared with
 * other work the second is what the code costs. */
static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static double cpu_s(void)
{
	return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static const char *table_path(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", workdir, name);
	return path;
}

static FILE *table_create(const char *name)
{
	FILE *f = fopen(table_path(name), "w");

	if (!f) {
		fprintf(stderr, "vd-scale: cannot write %s: %s\n", table_path(name), strerror(errno));
		exit(1);
	}
	return f;
}

static void table_close(FILE *f, const char *name)
{
	if (fclose(f) != 0) {
		fprintf(stderr, "vd-scale: cannot write %s: %s\n", table_path(name), strerror(errno));
		exit(1);
	}
}

static void write_ports(unsigned n)
{
	FILE *f = table_create("ports.lua");

	fprintf(f, "return { default = \"accept\", rules = {\n");
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "{ name = \"port%u\", proto = \"%s\", dport = %u, verdict = \"%s\" },\n", i,
			i % 2 ? "udp" : "tcp", 1 + i % 65535, i % 3 ? "drop" : "accept");
	fprintf(f, "} }\n");
	table_close(f, "ports.lua");
}

static void write_sources(unsigned n)
{
	FILE *f = table_create("sources.lua");

	fprintf(f, "return { default = \"accept\", rules = {\n");
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "{ name = \"src%u\", src = \"10.%u.%u.%u\", verdict = \"drop\" },\n", i,
			i >> 16, (i >> 8) & 255, i & 255);
	fprintf(f, "} }\n");
	table_close(f, "sources.lua");
}

/* The set's i-th prefix: the address a(i), /24 to /32 (as the Lua loop). */
static uint32_t set_address(uint64_t i)
{
	return (uint32_t)((i * 2654435761u) % 4294967296u);
}

static void write_set(unsigned n)
{
	FILE *f = table_create("set.lua");

	fprintf(f, "local s = {}\n"
		   "for i = 0, %u do\n"
		   "  local a = (i * 2654435761) %% 4294967296\n"
		   "  s[i + 1] = string.format(\"%%d.%%d.%%d.%%d/%%d\", a >> 24, (a >> 16) & 255,\n"
		   "                           (a >> 8) & 255, a & 255, 24 + i %% 9)\n"
		   "end\n"
		   "return { default = \"accept\", sets = { block = s },\n"
		   "         rules = { { name = \"block\", src = \"@block\", verdict = \"drop\" } } }\n",
		n - 1);
	table_close(f, "set.lua");
}

/* In the child: loads with vd_rules_check; prints "seconds=S". */
static int child_check(const char *name)
{
	char err[VD_ERRBUF_SIZE];
	FILE *out = fopen("/dev/null", "w");
	double t0 = now_s(), c0 = cpu_s();

	if (!out || vd_rules_check(table_path(name), NULL, out, err) < 0) {
		fprintf(stderr, "vd-scale: %s\n", out ? err : strerror(errno));
		return 1;
	}
	printf("seconds=%.2f cpu_seconds=%.2f", now_s() - t0, cpu_s() - c0);
	fclose(out);
	return 0;
}

static uint8_t corpus_bytes[CORPUS][PKT_BYTES];

/* Writes the next source address into packet bytes b (IPv4 source at 12). */
static inline void next_source(uint8_t *b, uint64_t *x, unsigned nset)
{
	uint32_t src;

	*x = *x * 6364136223846793005ull + 1442695040888963407ull;
	src = (*x >> 63) ? set_address(((*x >> 32) & 0x7fffffff) * nset >> 31) | (uint32_t)(*x & 0xf)
			 : (uint32_t)(*x >> 16);
	b[12] = (uint8_t)(src >> 24), b[13] = (uint8_t)(src >> 16);
	b[14] = (uint8_t)(src >> 8), b[15] = (uint8_t)src;
}

static struct vd_packet *corpus_build(void)
{
	struct vd_packet *pkts = calloc(CORPUS, sizeof(*pkts));

	if (!pkts)
		exit(1);
	for (unsigned i = 0; i < CORPUS; i++) {
		uint8_t *b = corpus_bytes[i];

		memset(b, 0, PKT_BYTES);
		b[0] = 0x45;
		b[3] = PKT_BYTES;
		b[8] = 64;
		b[9] = IPPROTO_UDP;
		b[12] = 10;
		b[16] = 198, b[17] = 19, b[19] = 1;
		b[20] = 0x9c, b[21] = 0x40, b[23] = 53, b[25] = PKT_BYTES - 20;
		vd_packet_view_init(&pkts[i], b, PKT_BYTES, PKT_BYTES);
		if (vd_packet_parse(&pkts[i]) != VD_PARSE_OK) {
			fprintf(stderr, "vd-scale: corpus packet %u does not parse\n", i);
			exit(1);
		}
	}
	return pkts;
}

/* In the child: loads the set as the daemon would, then times matching;
 * prints "seconds=S ns_per_packet=X pps=Y drops=D". */
static int child_set(unsigned nset)
{
	struct vd_rules_config cfg = { .path = table_path("set.lua"), .nworkers = 1,
				       .lua_memory = (size_t)1 << 30,
				       .lua_instructions = 2000000000u };
	char err[VD_ERRBUF_SIZE];
	double t0 = now_s(), c0 = cpu_s(), load, load_cpu, best = 1e18;
	struct vd_rules *r = vd_rules_open(&cfg, err);
	struct vd_packet *pkts;
	unsigned long n = 4000000 / divisor, drops = 0;

	if (!r) {
		fprintf(stderr, "vd-scale: %s\n", err);
		return 1;
	}
	load = now_s() - t0;
	load_cpu = cpu_s() - c0;
	pkts = corpus_build();
	rcu_register_thread();
	for (int round = 0; round < 4; round++) { /* the first one warms up */
		double t = cpu_s();

		uint64_t x = 777;

		drops = 0;
		for (unsigned long i = 0; i < n; i++) {
			next_source(corpus_bytes[i % CORPUS], &x, nset);
			drops += vd_rules_eval(r, 0, &pkts[i % CORPUS]).kind == VD_VERDICT_DROP;
			if ((i & 63) == 63)
				vd_rcu_quiescent();
		}
		t = (cpu_s() - t) * 1e9 / (double)n;
		if (round && t < best)
			best = t;
	}
	rcu_unregister_thread();
	printf("seconds=%.2f cpu_seconds=%.2f ns_per_packet=%.1f pps=%.0f drops=%lu", load, load_cpu,
	       best, 1e9 / best, drops);
	vd_rules_close(r);
	free(pkts);
	return 0;
}

/* Runs fn in a child; its line, then its peak RSS. */
static void row(const char *name, int (*fn)(const void *), const void *arg)
{
	struct rusage ru;
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("vd-scale: fork");
		exit(1);
	}
	if (pid == 0) {
		printf("row=%s ", name);
		status = fn(arg);
		fflush(stdout);
		_exit(status);
	}
	if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "vd-scale: row %s failed\n", name);
		exit(1);
	}
	printf(" max_rss_kib=%ld\n", ru.ru_maxrss);
	fflush(stdout);
}

static int run_check(const void *arg)
{
	return child_check(arg);
}

static int run_set(const void *arg)
{
	return child_set(*(const unsigned *)arg);
}

int main(int argc, char **argv)
{
	unsigned nset;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			divisor = 10;
		} else {
			fprintf(stderr, "vd-scale: unknown argument \"%s\" (usage: vd-scale [--quick])\n",
				argv[i]);
			return 2;
		}
	}
	snprintf(workdir, sizeof(workdir), "/tmp/vd-scale.XXXXXX");
	if (!mkdtemp(workdir)) {
		perror("vd-scale: mkdtemp");
		return 1;
	}
	nset = 1000000 / divisor;
	write_ports(100000 / divisor);
	write_sources(60000 / divisor);
	write_set(nset);
	row(divisor == 1 ? "load-ports-100k" : "load-ports-10k", run_check, "ports.lua");
	row(divisor == 1 ? "load-src-60k" : "load-src-6k", run_check, "sources.lua");
	row(divisor == 1 ? "set-1m" : "set-100k", run_set, &nset);
	for (const char *f = "ports.lua\0sources.lua\0set.lua\0"; *f; f += strlen(f) + 1)
		unlink(table_path(f));
	rmdir(workdir);
	return 0;
}
