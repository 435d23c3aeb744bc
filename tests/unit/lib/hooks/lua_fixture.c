/* lua_fixture.c - see lua_fixture.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <lua.h>

#include <verdict/log.h>

#include "lua_fixture.h"
#include "rules_fixture.h"

struct vd_lua *vt_lua;
char vt_lua_err[512];
char vt_lua_log[8192];

static void log_line(enum vd_log_level level, const char *msg, void *user)
{
	size_t used = strlen(vt_lua_log);

	(void)level;
	(void)user;
	snprintf(vt_lua_log + used, sizeof(vt_lua_log) - used, "%s\n", msg);
}

void vt_lua_log_clear(void)
{
	vt_lua_log[0] = '\0';
	vd_log_set_handler(log_line, NULL);
}

unsigned vt_lua_log_count(const char *needle)
{
	unsigned n = 0;

	for (const char *p = vt_lua_log; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static char saved_text[16384];
static struct vd_lua_limits saved_limits;
static bool saved_has_limits;

int vt_lua_load(const char *text, const struct vd_lua_limits *lim)
{
	if (text != saved_text)
		snprintf(saved_text, sizeof(saved_text), "%s", text);
	saved_has_limits = lim != NULL;
	if (lim)
		saved_limits = *lim;
	vt_lua_err[0] = '\0';
	vt_lua_log_clear();
	vt_lua = vd_lua_open(lim, vt_lua_err, sizeof(vt_lua_err));
	if (!vt_lua)
		fail_msg("open: %s", vt_lua_err);
	return vd_lua_load_file(vt_lua, vt_rules_write(text), vt_lua_err, sizeof(vt_lua_err));
}

int vt_lua_ref(const char *name)
{
	lua_State *L = vd_lua_state(vt_lua);
	int top = lua_gettop(L), ref;

	vd_lua_push_result(vt_lua);
	lua_getfield(L, -1, name);
	ref = vd_lua_ref_function(vt_lua);
	lua_settop(L, top);
	if (ref < 0)
		fail_msg("no hook \"%s\" in the file's table", name);
	return ref;
}

struct vd_verdict vt_lua_verdict(const char *name, bool *failed)
{
	static const uint8_t payload[] = "GET / HTTP/1.1\r\n";
	int ref = vt_lua_ref(name);
	struct vd_packet *pkt = vt_packet(&(struct vt_packet_spec){
		.version = 4, .proto = IPPROTO_UDP, .src = "198.18.0.1", .dst = "198.19.0.2",
		.sport = 1234, .dport = 53, .payload = payload, .payload_len = sizeof(payload) - 1 });

	vt_lua_log_clear();
	return vd_lua_call(vt_lua, ref, name, pkt, NULL, vd_verdict_drop(), failed);
}

int vt_lua_call(const char *name)
{
	bool failed = false;
	struct vd_verdict v = vt_lua_verdict(name, &failed);

	return failed ? -1 : v.kind;
}

void vt_lua_expect_failure(const char *name, uint64_t ms, const char *message)
{
	uint64_t t0;

	/* A fresh state: a state logs one hook error a second. */
	vd_lua_close(vt_lua);
	if (vt_lua_load(saved_text, saved_has_limits ? &saved_limits : NULL) != 0)
		fail_msg("reload: %s", vt_lua_err);
	t0 = vt_lua_ms();
	if (vt_lua_call(name) != -1)
		fail_msg("hook %s did not fail", name);
	if (vt_lua_ms() - t0 > ms)
		fail_msg("hook %s took %llu ms (at most %llu)", name,
			 (unsigned long long)(vt_lua_ms() - t0), (unsigned long long)ms);
	if (message && !strstr(vt_lua_log, message))
		fail_msg("hook %s: \"%s\" not in the log: %s", name, message, vt_lua_log);
}

void vt_lua_guard(unsigned seconds)
{
	alarm(seconds);
}

uint64_t vt_lua_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int vt_lua_teardown(void **state)
{
	(void)state;
	vd_lua_close(vt_lua);
	vt_lua = NULL;
	alarm(0);
	vd_log_set_handler(NULL, NULL);
	return 0;
}
