/*
 * example_queue.c - the README's C API example, built against the shared
 * library's exported symbols only, so that the example and the ABI stay true.
 *
 * Usage: example_queue QUEUE_NUM   (drops TCP port 23, accepts the rest;
 * SIGINT or SIGTERM stops it)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>

#include <verdict/libverdict.h>

static struct vd_queue *queue;

static struct vd_verdict judge(const struct vd_packet *pkt, void *user)
{
	(void)user;
	if (pkt->l4_proto == IPPROTO_TCP && pkt->dport == 23)
		return vd_verdict_drop();
	if (pkt->parse_error != VD_PARSE_OK) /* malformed or cut short */
		return vd_verdict_with_mark(vd_verdict_accept(), 0x1, 0x1);
	return vd_verdict_accept();
}

static void on_signal(int sig)
{
	(void)sig;
	vd_queue_stop(queue); /* async-signal-safe */
}

int main(int argc, char **argv)
{
	struct vd_queue_config cfg = { .callback = judge };
	char err[VD_ERRBUF_SIZE];
	struct sigaction sa = { .sa_handler = on_signal };

	if (argc != 2) {
		fprintf(stderr, "usage: %s QUEUE_NUM\n", argv[0]);
		return 2;
	}
	cfg.queue_num = (uint16_t)atoi(argv[1]);
	queue = vd_queue_open(&cfg, err); /* open, bind, configure */
	if (!queue) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	vd_queue_run(queue);
	return vd_queue_close(queue) == 0 ? 0 : 1; /* unbind */
}
