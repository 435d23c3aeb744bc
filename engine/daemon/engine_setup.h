/* engine_setup.h - the engine verdictd's options describe (engine_setup.c). */
#ifndef VD_DAEMON_ENGINE_SETUP_H
#define VD_DAEMON_ENGINE_SETUP_H

#include <stdbool.h>
#include <stdint.h>

#include <verdict/engine.h>

#include "cli.h"
#include "serve.h"

/* --hold-max, or the library's default. */
uint32_t vd_daemon_hold_max(const struct vd_cli_options *o);

/* The kernel queue length verdictd asks for: --maxlen, or what the receive
 * buffer holds, raised to room for every held packet when delays is true
 * (the rules can delay). --check prints it. */
uint32_t vd_daemon_queue_maxlen(const struct vd_cli_options *o, bool delays);

/* The engine over every --queue and --nflog group, bound but not started
 * (vd_engine_start), with d as the init callbacks' user: queue workers get
 * the rule table d->rules (or --default without one) and a log writer when
 * d->sink is open. NULL with errbuf filled on failure. Main thread only. */
struct vd_engine *vd_daemon_engine_create(struct daemon *d, const uint16_t *queues,
					  const uint16_t *groups, char *errbuf);

#endif
