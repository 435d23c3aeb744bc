/* queue_tuning.c - kernel queue sizes and drop bookkeeping (queue_tuning.h). */
#include "queue_tuning.h"

uint32_t vd_tuning_default_maxlen(unsigned rcvbuf, unsigned batch, bool delays,
				  uint32_t hold_max)
{
	uint64_t len = rcvbuf / VD_TUNING_PACKET_TRUESIZE;
	uint64_t batches = (uint64_t)batch * VD_TUNING_MIN_BATCHES;

	if (len < batches)
		len = batches;
	if (delays && len < (uint64_t)hold_max + VD_TUNING_HOLD_HEADROOM)
		len = (uint64_t)hold_max + VD_TUNING_HOLD_HEADROOM;
	return len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
}

unsigned vd_kernel_watch_update(struct vd_kernel_watch *w, const struct vd_kernel_queue_stats *k,
				const struct vd_queue_stats *s, bool fail_open)
{
	bool moved = k->queue_dropped > w->queue_dropped || k->user_dropped > w->user_dropped;
	unsigned actions = 0;

	w->queue_dropped = k->queue_dropped;
	w->user_dropped = k->user_dropped;
	if (fail_open) {
		uint32_t judged = (uint32_t)(s->packets - s->held - s->pending);
		int64_t gap = (int32_t)(k->id_sequence - (uint32_t)k->user_dropped - k->queue_total -
					judged);
		int64_t sure = gap < w->gap_last ? gap : w->gap_last;

		w->gap_last = gap;
		if (sure > 0 && (uint64_t)sure > w->fail_open) {
			w->fail_open = (uint64_t)sure;
			moved = true;
		}
	}
	if (moved)
		actions |= VD_WATCH_GROW;
	if (moved && !w->alarmed) {
		w->alarmed = true;
		actions |= VD_WATCH_ALARM;
	}
	return actions;
}
