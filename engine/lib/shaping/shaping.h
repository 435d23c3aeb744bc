/*
 * shaping.h - the shaping toolkit of libverdict (private to the library,
 * its Lua `shaping` library and its tests): a seeded generator, netem's
 * delay distributions, a token bucket that delays, netem's loss models and
 * tc's units. Everything here belongs to one thread per object, takes no
 * lock and allocates nothing.
 */
#ifndef VD_SHAPING_H
#define VD_SHAPING_H

#include "bucket.h"
#include "distribution.h"
#include "loss.h"
#include "rng.h"
#include "units.h"

#endif
