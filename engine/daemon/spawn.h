/*
 * spawn.h - runs a helper tool (iptables-restore, nft) with text on its
 * stdin and waits for it: fork and exec, no shell. The tool's stderr is
 * captured for the caller's error line, its stdout discarded (vd_spawn_run)
 * or kept (vd_spawn_read: iptables-save).
 *
 * The child raises CAP_NET_ADMIN into its ambient set before exec, so that a
 * daemon that dropped to a plain user keeping only that capability (in its
 * permitted, effective and inheritable sets) passes it on to the tool;
 * where that fails (a daemon running as root, a capability it lacks) the
 * tool gets what exec gives it anyway.
 *
 * Main thread (or any one thread at a time); blocks for the tool's run,
 * bounded by VD_SPAWN_TIMEOUT_MS.
 */
#ifndef VD_SPAWN_H
#define VD_SPAWN_H

#include <stddef.h>

/* A tool that has not ended by then is killed: a held xtables lock must
 * not hold the daemon. */
#define VD_SPAWN_TIMEOUT_MS 10000

/* Runs argv (argv[0] looked up in PATH) with input (len bytes; may be NULL
 * for none) on its stdin. Returns its exit status (0-255; 127: it could not
 * be run), with its stderr, newlines turned into "; ", in err (errlen bytes,
 * "" when it said nothing); or -1 with err naming why it did not run to its
 * end (no pipe, no fork, a signal, the timeout). */
int vd_spawn_run(char *const argv[], const char *input, size_t len, char *err, size_t errlen);

/* Output past this is not kept (vd_spawn_read fails). */
#define VD_SPAWN_OUTPUT_MAX (64u << 20)

/* Runs argv with nothing on its stdin and keeps what it writes to stdout:
 * *out (NUL-ended, the caller frees it) when it returns 0, else NULL. The
 * exit status, or -1, and err as vd_spawn_run's. */
int vd_spawn_read(char *const argv[], char **out, char *err, size_t errlen);

#endif
