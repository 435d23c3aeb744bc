/*
 * example_pending.c - the stream model: the queue's callback answers every
 * packet with vd_verdict_pending() and hands its id to a second thread,
 * which decides later and answers with vd_queue_verdict (here: accept,
 * delayed by MS milliseconds; 0 for at once). Built against the shared
 * library's exported symbols only.
 *
 * Usage: example_pending QUEUE_NUM MS [MAX_ANSWERS]   (SIGINT or SIGTERM
 * stops it; packets still unanswered then get the fallback verdict, drop.
 * With MAX_ANSWERS, packets after the first MAX_ANSWERS are never answered,
 * to show that)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <verdict/libverdict.h>

#define IDS 4096

/* The ids the callback hands over: a ring under a mutex. */
struct handoff {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	uint32_t ids[IDS];
	unsigned head, len;
	bool done;
	uint64_t delay_ns;
	unsigned long max_answers, answered;
};

static struct vd_queue *queue;

/* The queue's thread: never blocks; a full ring answers at once. */
static struct vd_verdict judge(const struct vd_packet *pkt, void *user)
{
	struct handoff *h = user;
	bool taken = false;

	pthread_mutex_lock(&h->lock);
	if (h->len < IDS) {
		h->ids[(h->head + h->len++) % IDS] = pkt->id;
		taken = true;
		pthread_cond_signal(&h->ready);
	}
	pthread_mutex_unlock(&h->lock);
	return taken ? vd_verdict_pending() : vd_verdict_accept();
}

/* The deciding thread: answers by id, from outside the queue's thread. */
static void *decide(void *arg)
{
	struct handoff *h = arg;

	pthread_mutex_lock(&h->lock);
	while (!h->done) {
		if (h->len == 0) {
			pthread_cond_wait(&h->ready, &h->lock);
			continue;
		}
		uint32_t id = h->ids[h->head];
		h->head = (h->head + 1) % IDS;
		h->len--;
		if (h->answered >= h->max_answers)
			continue; /* left pending: stop answers it */
		h->answered++;
		pthread_mutex_unlock(&h->lock);
		while (vd_queue_verdict(queue, id, vd_verdict_delay(vd_verdict_accept(),
								    h->delay_ns)) < 0 &&
		       errno == EAGAIN)
			sched_yield(); /* the queue's mailbox is full for a moment */
		pthread_mutex_lock(&h->lock);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
	vd_queue_stop(queue);
}

int main(int argc, char **argv)
{
	static struct handoff h = { .lock = PTHREAD_MUTEX_INITIALIZER,
				    .ready = PTHREAD_COND_INITIALIZER };
	struct vd_queue_config cfg = { .callback = judge, .user = &h,
				       .maxlen = VD_QUEUE_DEFAULT_HOLD_MAX + 1024 };
	char err[VD_ERRBUF_SIZE];
	struct sigaction sa = { .sa_handler = on_signal };
	struct vd_queue_stats st;
	pthread_t thread;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s QUEUE_NUM MS [MAX_ANSWERS]\n", argv[0]);
		return 2;
	}
	cfg.queue_num = (uint16_t)atoi(argv[1]);
	h.delay_ns = strtoull(argv[2], NULL, 10) * 1000000u;
	h.max_answers = argc == 4 ? strtoul(argv[3], NULL, 10) : (unsigned long)-1;
	queue = vd_queue_open(&cfg, err);
	if (!queue) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (pthread_create(&thread, NULL, decide, &h) != 0) {
		fprintf(stderr, "example_pending: cannot start the deciding thread\n");
		vd_queue_close(queue);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	vd_queue_run(queue);
	pthread_mutex_lock(&h.lock);
	h.done = true;
	pthread_cond_signal(&h.ready);
	pthread_mutex_unlock(&h.lock);
	pthread_join(thread, NULL);
	vd_queue_stats(queue, &st);
	printf("packets=%lu accepted=%lu dropped=%lu pending=%lu released=%lu\n",
	       (unsigned long)st.packets, (unsigned long)st.accepted, (unsigned long)st.dropped,
	       (unsigned long)st.pending, (unsigned long)st.released);
	return vd_queue_close(queue) == 0 ? 0 : 1;
}
