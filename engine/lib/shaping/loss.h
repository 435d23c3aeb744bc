/*
 * loss.h - random packet loss as tc netem models it: Bernoulli (`loss 1%`)
 * or Gilbert-Elliott (`loss gemodel p r 1-h 1-k`).
 *
 * Gilbert-Elliott, netem's meanings: two states, good and bad.
 *   p: the probability of going from good to bad, per packet
 *   r: the probability of going from bad to good, per packet
 *   h: the probability that a packet in the bad state gets through
 *      (1 - h is the loss in bad)
 *   k: the probability that a packet in the good state gets through
 *      (1 - k is the loss in good)
 * Each packet is lost or kept by the state it found, then the state moves,
 * as netem's loss_gilb_ell does. Defaults as tc's: r = 1 - p, h = 0, k = 1
 * (with them the model is Bernoulli with loss p). Stationary loss:
 *   (r (1 - k) + p (1 - h)) / (p + r).
 * A model and its state belong to one thread: no lock, no allocation.
 */
#ifndef VD_SHAPING_LOSS_H
#define VD_SHAPING_LOSS_H

#include <stdbool.h>

#include "rng.h"

enum vd_loss_model {
	VD_LOSS_NONE,
	VD_LOSS_BERNOULLI,
	VD_LOSS_GEMODEL,
};

struct vd_loss {
	enum vd_loss_model model;
	double p;        /* Bernoulli: the loss; gemodel: good -> bad */
	double r, h, k;  /* gemodel */
	bool bad;        /* gemodel: the state; starts good */
};

/* Bernoulli loss with probability p in [0, 1]. */
void vd_loss_bernoulli(struct vd_loss *l, double p);

/* Gilbert-Elliott with p, r, h, k in [0, 1], state good. */
void vd_loss_gemodel(struct vd_loss *l, double p, double r, double h, double k);

/* Whether the next packet is lost; moves the model's state. */
bool vd_loss_drop(struct vd_loss *l, struct vd_rng *rng);

/* The long-run loss rate of l (for --check and tests). */
double vd_loss_rate(const struct vd_loss *l);

#endif
