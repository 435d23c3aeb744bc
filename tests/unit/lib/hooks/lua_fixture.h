/* lua_fixture.h - one sandboxed state loaded from text, hooks called by
 * name, and a guard that kills a test that hangs: for the budget, pattern
 * and sandbox tests. */
#ifndef VD_TEST_LUA_FIXTURE_H
#define VD_TEST_LUA_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "lua_hook.h"

extern struct vd_lua *vt_lua;
extern char vt_lua_err[512];

/* Opens a state with lim (NULL: defaults) and loads text; returns the load's
 * result (0 or -1, the message in vt_lua_err). Fails the test when the
 * state cannot be opened. */
int vt_lua_load(const char *text, const struct vd_lua_limits *lim);

/* A reference to the function the file's table holds under name; fails
 * the test when there is none. */
int vt_lua_ref(const char *name);

/* Calls hook name of the file's table on a UDP packet; the verdict's kind,
 * or -1 when the call failed (on_error was used and counted). The failure's
 * log line is in vt_lua_log. */
int vt_lua_call(const char *name);

/* As vt_lua_call, but the whole verdict (on_error: a plain drop) and
 * whether the call failed. */
struct vd_verdict vt_lua_verdict(const char *name, bool *failed);

/* Reloads the last file text with its limits in a fresh state (a state logs
 * at most one hook error a second), calls hook name and fails the test
 * unless the call fails within ms with message (if not NULL) in the log. */
void vt_lua_expect_failure(const char *name, uint64_t ms, const char *message);

/* Every vd_log line since the last vt_lua_log_clear, one per line. */
extern char vt_lua_log[8192];
void vt_lua_log_clear(void);
unsigned vt_lua_log_count(const char *needle);

/* Kills the process (failing the test) after seconds: a hang is a failure. */
void vt_lua_guard(unsigned seconds);

/* Milliseconds since an arbitrary start. */
uint64_t vt_lua_ms(void);

/* cmocka teardown: closes vt_lua. */
int vt_lua_teardown(void **state);

#endif
