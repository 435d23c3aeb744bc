/*
 * loss.c - Bernoulli and Gilbert-Elliott loss (loss.h).
 */
#include "loss.h"

void vd_loss_bernoulli(struct vd_loss *l, double p)
{
	*l = (struct vd_loss){ .model = VD_LOSS_BERNOULLI, .p = p };
}

void vd_loss_gemodel(struct vd_loss *l, double p, double r, double h, double k)
{
	*l = (struct vd_loss){ .model = VD_LOSS_GEMODEL, .p = p, .r = r, .h = h, .k = k };
}

bool vd_loss_drop(struct vd_loss *l, struct vd_rng *rng)
{
	bool lost;

	switch (l->model) {
	case VD_LOSS_BERNOULLI:
		return vd_rng_double(rng) < l->p;
	case VD_LOSS_GEMODEL:
		/* Lost by the state the packet found, then the state moves
		 * (netem draws the transition first but judges by the old
		 * state: the same chain). */
		if (l->bad) {
			lost = vd_rng_double(rng) >= l->h;
			if (vd_rng_double(rng) < l->r)
				l->bad = false;
		} else {
			lost = vd_rng_double(rng) >= l->k;
			if (vd_rng_double(rng) < l->p)
				l->bad = true;
		}
		return lost;
	case VD_LOSS_NONE:
	default:
		return false;
	}
}

double vd_loss_rate(const struct vd_loss *l)
{
	switch (l->model) {
	case VD_LOSS_BERNOULLI:
		return l->p;
	case VD_LOSS_GEMODEL:
		if (l->p + l->r <= 0.0)
			return 1.0 - l->k; /* never leaves good */
		return (l->r * (1.0 - l->k) + l->p * (1.0 - l->h)) / (l->p + l->r);
	case VD_LOSS_NONE:
	default:
		return 0.0;
	}
}
