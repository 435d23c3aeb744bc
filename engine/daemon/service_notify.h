/*
 * service_notify.h - tells the service manager (systemd, Type=notify) what
 * state verdictd is in, through libsystemd's sd_notify. Without
 * NOTIFY_SOCKET in the environment (not started by systemd) every call does
 * nothing. Main thread only; each call may send one datagram, so none of
 * them belongs on a packet path.
 */
#ifndef VD_SERVICE_NOTIFY_H
#define VD_SERVICE_NOTIFY_H

/* READY=1: every queue and group is bound and the rules are loaded (at
 * start-up), or a reload has ended (whatever its outcome: the old rules
 * stay live when it fails). status, one line, becomes STATUS=. */
void vd_service_ready(const char *status);

/* RELOADING=1: a reload has started; vd_service_ready follows its end. */
void vd_service_reloading(void);

/* STOPPING=1: the daemon is shutting down. */
void vd_service_stopping(void);

#endif
