/*
 * example_nflog.c - the NFLOG C API example (verdict/nflog.h), built against
 * the shared library's exported symbols only, and run by
 * tests/netns/nflog_hooks.sh.
 *
 * Usage: example_nflog GROUP   (prints "prefix len" per logged packet;
 * SIGINT or SIGTERM stops it)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <verdict/libverdict.h>

static struct vd_nflog *group;

static void seen(const struct vd_packet *pkt, void *user)
{
	(void)user;
	printf("%s %u\n", pkt->prefix ? pkt->prefix : "-", pkt->len);
}

static void on_signal(int sig)
{
	(void)sig;
	vd_nflog_stop(group); /* async-signal-safe */
}

int main(int argc, char **argv)
{
	struct vd_nflog_config cfg = { .callback = seen };
	char err[VD_ERRBUF_SIZE];

	if (argc != 2) {
		fprintf(stderr, "usage: example_nflog GROUP\n");
		return 2;
	}
	cfg.group = (uint16_t)atoi(argv[1]);
	group = vd_nflog_open(&cfg, err); /* open, bind, configure */
	if (!group) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "ready: group %u\n", cfg.group);
	vd_nflog_run(group);
	fflush(stdout);
	return vd_nflog_close(group) == 0 ? 0 : 1;
}
