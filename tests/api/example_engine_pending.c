/*
 * example_engine_pending.c - the stream model over several queues: an
 * engine runs one worker per queue; every callback answers
 * vd_verdict_pending() and hands its queue's number and the packet's id to
 * one deciding thread, which answers later with vd_engine_verdict (accept,
 * delayed by MS milliseconds; 0 for at once). Packet ids are per queue: the
 * number comes from the worker's user pointer, which worker_init made. Built
 * against the shared library's exported symbols only.
 *
 * Usage: example_engine_pending MS QUEUE_NUM...   (SIGINT or SIGTERM stops
 * it; it prints each queue's counters: q<N> packets=... accepted=...)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <verdict/libverdict.h>

#define MAX_QUEUES 16
#define IDS 4096

struct answer {
	uint16_t queue;
	uint32_t id;
};

/* What the callbacks hand over: a ring under a mutex. */
struct handoff {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct answer ring[IDS];
	unsigned head, len;
	bool done;
	uint64_t delay_ns;
};

/* One per worker (worker_init): its queue's number, the shared handoff. */
struct worker {
	uint16_t num;
	struct handoff *h;
};

static struct vd_engine *engine;
static struct worker workers[MAX_QUEUES];

static void *worker_init(unsigned index, uint16_t num, void *engine_user)
{
	workers[index] = (struct worker){ .num = num, .h = engine_user };
	return &workers[index];
}

/* A queue's thread: never blocks for long; a full ring answers at once. */
static struct vd_verdict judge(const struct vd_packet *pkt, void *user)
{
	struct worker *w = user;
	struct handoff *h = w->h;
	bool taken = false;

	pthread_mutex_lock(&h->lock);
	if (h->len < IDS) {
		h->ring[(h->head + h->len++) % IDS] = (struct answer){ w->num, pkt->id };
		taken = true;
		pthread_cond_signal(&h->ready);
	}
	pthread_mutex_unlock(&h->lock);
	return taken ? vd_verdict_pending() : vd_verdict_accept();
}

/* The deciding thread: answers by queue and id. */
static void *decide(void *arg)
{
	struct handoff *h = arg;

	pthread_mutex_lock(&h->lock);
	while (!h->done) {
		struct answer a;

		if (h->len == 0) {
			pthread_cond_wait(&h->ready, &h->lock);
			continue;
		}
		a = h->ring[h->head];
		h->head = (h->head + 1) % IDS;
		h->len--;
		pthread_mutex_unlock(&h->lock);
		while (vd_engine_verdict(engine, a.queue, a.id,
					 vd_verdict_delay(vd_verdict_accept(), h->delay_ns)) < 0 &&
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
	vd_engine_stop(engine);
}

static void report(void)
{
	for (size_t i = 0; i < vd_engine_nqueues(engine); i++) {
		struct vd_queue_stats st;
		uint16_t num = vd_engine_stats(engine, i, &st);

		printf("q%u packets=%lu accepted=%lu dropped=%lu pending=%lu released=%lu\n", num,
		       (unsigned long)st.packets, (unsigned long)st.accepted,
		       (unsigned long)st.dropped, (unsigned long)st.pending,
		       (unsigned long)st.released);
	}
}

int main(int argc, char **argv)
{
	static struct handoff h = { .lock = PTHREAD_MUTEX_INITIALIZER,
				    .ready = PTHREAD_COND_INITIALIZER };
	struct vd_queue_config q = { .callback = judge,
				     .maxlen = VD_QUEUE_DEFAULT_HOLD_MAX + 1024 };
	uint16_t nums[MAX_QUEUES];
	struct vd_engine_config cfg = { .queues = nums, .queue = &q, .worker_init = worker_init,
					.user = &h };
	struct sigaction sa = { .sa_handler = on_signal };
	char err[VD_ERRBUF_SIZE];
	pthread_t thread;
	int ret;

	if (argc < 3 || argc - 2 > MAX_QUEUES) {
		fprintf(stderr, "usage: %s MS QUEUE_NUM... (at most %d queues)\n", argv[0],
			MAX_QUEUES);
		return 2;
	}
	h.delay_ns = strtoull(argv[1], NULL, 10) * 1000000u;
	for (int i = 2; i < argc; i++)
		nums[cfg.nqueues++] = (uint16_t)atoi(argv[i]);
	engine = vd_engine_create(&cfg, err);
	if (!engine) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* A queue the engine does not run: refused by name, nothing sent. */
	if (vd_engine_verdict(engine, 65535, 1, vd_verdict_accept()) != -1 || errno != ENOENT) {
		fprintf(stderr, "example_engine_pending: queue 65535 was not refused with ENOENT\n");
		vd_engine_destroy(engine);
		return 1;
	}
	if (pthread_create(&thread, NULL, decide, &h) != 0) {
		fprintf(stderr, "example_engine_pending: cannot start the deciding thread\n");
		vd_engine_destroy(engine);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (vd_engine_start(engine, err) < 0)
		fprintf(stderr, "%s\n", err);
	ret = vd_engine_wait(engine);
	pthread_mutex_lock(&h.lock);
	h.done = true;
	pthread_cond_signal(&h.ready);
	pthread_mutex_unlock(&h.lock);
	pthread_join(thread, NULL);
	report();
	vd_engine_destroy(engine);
	return ret == 0 ? 0 : 1;
}
