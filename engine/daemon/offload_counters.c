/* offload_counters.c - the kernel's hit counters of offloaded rules, read
 * back with iptables-save -c and ip6tables-save -c (firewall_offload.h). */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "firewall_offload.h"
#include "internal.h"

extern char **environ;

/* The tools' output past this is not read: a filter table that big is not
 * verdictd's to count. */
#define SAVE_MAX (64u << 20)

size_t vd_offload_counters_parse(const char *text, uint64_t *hits, size_t n)
{
	static const char tag[] = "--comment \"verdictd rule ";
	size_t counted = 0;

	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n'), *c, *j;
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[1024], *p;
		unsigned long long packets;
		unsigned long rule;

		if (len < sizeof(buf) && line[0] == '[') {
			memcpy(buf, line, len);
			buf[len] = '\0';
			errno = 0;
			packets = strtoull(buf + 1, &p, 10);
			/* "[P:B] -A VERDICTD-..." ... "--comment "verdictd rule N"" ... "-j T" */
			if (!errno && *p == ':' && (p = strstr(p, "] -A VERDICTD-")) &&
			    (c = strstr(p, tag)) && (j = strstr(c, " -j ")) &&
			    strncmp(j + 4, "MARK", 4) != 0) {
				char *num_end;

				rule = strtoul(c + sizeof(tag) - 1, &num_end, 10);
				if (*num_end == '"' && rule >= 1 && rule <= n) {
					hits[rule - 1] += packets;
					counted++;
				}
			}
		}
		line = end ? end + 1 : NULL;
	}
	return counted;
}

/* Runs tool -c -t filter (no shell) and returns its output, NUL-ended;
 * NULL with a logged line when it cannot run or fails. */
static char *save_read(const char *tool)
{
	char *const argv[] = { (char *)tool, "-c", "-t", "filter", NULL };
	posix_spawn_file_actions_t fa;
	int fds[2], status = 0;
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	pid_t pid;
	ssize_t got;

	if (!buf || pipe2(fds, O_CLOEXEC) < 0) {
		free(buf);
		vd_log(VD_LOG_ERROR, "offload counters: %s: %s", tool, strerror(errno));
		return NULL;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	errno = posix_spawnp(&pid, tool, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (errno) {
		vd_log(VD_LOG_ERROR, "offload counters: cannot run %s: %s", tool, strerror(errno));
		close(fds[0]);
		free(buf);
		return NULL;
	}
	while ((got = read(fds[0], buf + len, cap - 1 - len)) > 0 ||
	       (got < 0 && errno == EINTR)) {
		char *more;

		len += got > 0 ? (size_t)got : 0;
		if (len + 1 < cap)
			continue;
		if (cap >= SAVE_MAX || !(more = realloc(buf, cap * 2)))
			break;
		buf = more, cap *= 2;
	}
	buf[len] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		vd_log(VD_LOG_ERROR, "offload counters: %s -c failed (status %d)", tool, status);
		free(buf);
		return NULL;
	}
	return buf;
}

/* hits[i] for the installed set's rule i + 1, both families. */
static int kernel_hits(uint64_t *hits, size_t n)
{
	static const char *const tools[] = { "iptables-save", "ip6tables-save" };
	int ret = 0;

	for (size_t t = 0; t < 2; t++) {
		char *text = save_read(tools[t]);

		if (!text) {
			ret = -1;
			continue;
		}
		vd_offload_counters_parse(text, hits, n);
		free(text);
	}
	return ret;
}

static void base_add(struct vd_firewall_offload *ctx, const char *name, uint64_t hits)
{
	struct vd_offload_base *more;

	for (size_t i = 0; i < ctx->nbase; i++)
		if (strcmp(ctx->base[i].name, name) == 0) {
			ctx->base[i].hits += hits;
			return;
		}
	more = realloc(ctx->base, (ctx->nbase + 1) * sizeof(*more));
	if (!more) {
		vd_log(VD_LOG_ERROR, "offload counters: out of memory: %lu hits of rule \"%s\" lost",
		       (unsigned long)hits, name);
		return;
	}
	ctx->base = more;
	snprintf(ctx->base[ctx->nbase].name, sizeof(ctx->base->name), "%s", name);
	ctx->base[ctx->nbase++].hits = hits;
}

static int names_copy(const struct vd_rule_file *f, void *arg)
{
	struct vd_firewall_offload *ctx = arg;
	char (*names)[64] = calloc(f->nrules ? f->nrules : 1, sizeof(*names));

	if (!names)
		return -1;
	for (size_t i = 0; i < f->nrules; i++)
		snprintf(names[i], sizeof(names[i]), "%s", f->rules[i].name);
	free(ctx->names);
	ctx->names = names;
	ctx->nnames = f->nrules;
	return 0;
}

int vd_firewall_offload_prepare(struct vd_firewall_offload *ctx)
{
	int ret = 0;

	pthread_mutex_lock(&ctx->lock);
	if (ctx->names && ctx->nnames) {
		uint64_t *hits = calloc(ctx->nnames, sizeof(*hits));

		ret = hits ? kernel_hits(hits, ctx->nnames) : -1;
		for (size_t i = 0; hits && i < ctx->nnames; i++)
			if (hits[i])
				base_add(ctx, ctx->names[i], hits[i]);
		free(hits);
	}
	if (vd_rules_table_read(ctx->rules, names_copy, ctx) < 0) {
		vd_log(VD_LOG_ERROR, "offload counters: out of memory: offloaded hits not counted");
		ret = -1;
	}
	/* As verdictd's own counters: a rule the new table drops starts from 0
	 * when it comes back. */
	for (size_t b = 0; b < ctx->nbase;) {
		bool kept = false;

		for (size_t i = 0; i < ctx->nnames && !kept; i++)
			kept = strcmp(ctx->names[i], ctx->base[b].name) == 0;
		if (kept)
			b++;
		else
			ctx->base[b] = ctx->base[--ctx->nbase];
	}
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

/* st[j] (j >= 1, a rule) named name; hint: where it usually is. */
static struct vd_rule_stats *stats_named(struct vd_rule_stats *st, size_t n, const char *name,
					 size_t hint)
{
	if (hint < n && strcmp(st[hint].name, name) == 0)
		return &st[hint];
	for (size_t j = 1; j < n; j++)
		if (strcmp(st[j].name, name) == 0)
			return &st[j];
	return NULL;
}

int vd_firewall_offload_add_hits(struct vd_firewall_offload *ctx, struct vd_rule_stats *st,
				 size_t n)
{
	struct vd_rule_stats *s;
	uint64_t *hits;
	int ret;

	pthread_mutex_lock(&ctx->lock);
	if (!ctx->names || !ctx->nnames) {
		pthread_mutex_unlock(&ctx->lock);
		return 0;
	}
	hits = calloc(ctx->nnames, sizeof(*hits));
	ret = hits ? kernel_hits(hits, ctx->nnames) : -1;
	for (size_t i = 0; hits && i < ctx->nnames; i++)
		if (hits[i] && (s = stats_named(st, n, ctx->names[i], i + 1)))
			s->hits += hits[i];
	for (size_t b = 0; b < ctx->nbase; b++)
		if ((s = stats_named(st, n, ctx->base[b].name, 0)))
			s->hits += ctx->base[b].hits;
	pthread_mutex_unlock(&ctx->lock);
	free(hits);
	return ret;
}
