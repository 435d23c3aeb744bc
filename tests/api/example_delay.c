/*
 * example_delay.c - delays every packet of a queue by a fixed time: the
 * callback returns its verdict with vd_verdict_delay, and the queue holds
 * the packet's id until the time comes (verdict/queue.h). Built against the
 * shared library's exported symbols only.
 *
 * Usage: example_delay QUEUE_NUM MS   (accepts every packet MS milliseconds
 * late; SIGINT or SIGTERM stops it, releasing what it holds at once)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <verdict/libverdict.h>

static struct vd_queue *queue;

static struct vd_verdict judge(const struct vd_packet *pkt, void *user)
{
	const uint64_t *delay_ns = user;

	(void)pkt;
	return vd_verdict_delay(vd_verdict_accept(), *delay_ns);
}

static void on_signal(int sig)
{
	(void)sig;
	vd_queue_stop(queue); /* async-signal-safe */
}

int main(int argc, char **argv)
{
	uint64_t delay_ns;
	/* Held packets stay in the kernel queue: make it longer than what the
	 * queue may hold, or the kernel drops new packets (counted). */
	struct vd_queue_config cfg = { .callback = judge, .user = &delay_ns,
				       .hold_max = VD_QUEUE_DEFAULT_HOLD_MAX,
				       .maxlen = VD_QUEUE_DEFAULT_HOLD_MAX + 1024 };
	char err[VD_ERRBUF_SIZE];
	struct sigaction sa = { .sa_handler = on_signal };
	struct vd_queue_stats st;

	if (argc != 3) {
		fprintf(stderr, "usage: %s QUEUE_NUM MS\n", argv[0]);
		return 2;
	}
	cfg.queue_num = (uint16_t)atoi(argv[1]);
	delay_ns = strtoull(argv[2], NULL, 10) * 1000000u;
	queue = vd_queue_open(&cfg, err);
	if (!queue) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	vd_queue_run(queue); /* returns once every held packet was released */
	vd_queue_stats(queue, &st);
	printf("packets=%lu released=%lu held_max=%lu release_error_p99_ns=%lu\n",
	       (unsigned long)st.packets, (unsigned long)st.released,
	       (unsigned long)st.held_max, (unsigned long)st.release_error_p99_ns);
	return vd_queue_close(queue) == 0 ? 0 : 1;
}
