/* service_notify.c - Type=notify states for systemd (service_notify.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "internal.h" /* vd_log */
#include "service_notify.h"

/* Sends state; a failure is logged once and never stops the daemon: systemd
 * then times the start or reload out and says so itself. sd_notify returns
 * 0 when NOTIFY_SOCKET is unset, which is no failure. */
static void notify(const char *state)
{
	static bool warned;
	int rc = sd_notify(0, state);

	if (rc < 0 && !warned) {
		warned = true;
		vd_log(VD_LOG_WARN, "sd_notify \"%.*s\" to the service manager failed: %s",
		       (int)strcspn(state, "\n"), state, strerror(-rc));
	}
}

void vd_service_ready(const char *status)
{
	char state[512];

	snprintf(state, sizeof(state), "READY=1\nSTATUS=%.*s", (int)strcspn(status, "\n"),
		 status);
	notify(state);
}

void vd_service_reloading(void)
{
	notify("RELOADING=1\nSTATUS=reloading the rules");
}

void vd_service_stopping(void)
{
	notify("STOPPING=1\nSTATUS=stopping");
}
