/* offload_counters.c - the kernel's hit counters of offloaded rules, read
 * back with an nf_tables rule dump (offload_netlink.c), or with
 * iptables-save -c and ip6tables-save -c on the legacy backend
 * (firewall_offload.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "firewall_nft.h"
#include "firewall_offload.h"
#include "internal.h"
#include "spawn.h"

/* Reads one line of a tool's listing (a NUL-ended copy it may cut up):
 * returns where the rule number of its "verdictd rule N" tag starts and sets
 * *packets, or NULL when the line counts nothing. */
typedef const char *(*line_fn)(char *line, unsigned long long *packets, void *state);

/* Adds each counted line's packets to hits[N - 1] (N <= n, followed by the
 * tag's closing quote). Lines longer than the buffer count nothing: no
 * rule verdictd writes comes near it. */
static size_t lines_count(const char *text, line_fn fn, void *state, uint64_t *hits, size_t n)
{
	size_t counted = 0;

	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n'), *num;
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[8192], *num_end;
		unsigned long long packets;
		unsigned long rule;

		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			if ((num = fn(buf, &packets, state))) {
				rule = strtoul(num, &num_end, 10);
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

/* "[P:B] -A VERDICTD-..." ... "--comment "verdictd rule N"" ... "-j T", T
 * not MARK. */
static const char *save_line(char *line, unsigned long long *packets, void *state)
{
	static const char tag[] = "--comment \"verdictd rule ";
	char *p, *c, *j;

	(void)state;
	if (line[0] != '[')
		return NULL;
	errno = 0;
	*packets = strtoull(line + 1, &p, 10);
	if (!errno && *p == ':' && (p = strstr(p, "] -A VERDICTD-")) && (c = strstr(p, tag)) &&
	    (j = strstr(c, " -j ")) && strncmp(j + 4, "MARK", 4) != 0)
		return c + sizeof(tag) - 1;
	return NULL;
}

size_t vd_offload_counters_parse(const char *text, uint64_t *hits, size_t n)
{
	return lines_count(text, save_line, NULL, hits, n);
}

/* "\t\t... counter packets P bytes B ... comment "verdictd rule N"" inside
 * table inet verdictd (*state: whether the lines are). Tables start at the
 * line's start, their chains and rules are indented. */
static const char *nft_line(char *line, unsigned long long *packets, void *state)
{
	static const char tag[] = "comment \"verdictd rule ", counter[] = "counter packets ";
	static const char own[] = "table inet " VD_FIREWALL_NFT_TABLE " {";
	bool *inside = state;
	char *k, *c, *num_end;

	if (strncmp(line, "table ", 6) == 0)
		*inside = strcmp(line, own) == 0;
	if (!*inside || !(k = strstr(line, counter)) || !(c = strstr(k, tag)))
		return NULL;
	errno = 0;
	*packets = strtoull(k + sizeof(counter) - 1, &num_end, 10);
	return !errno && *num_end == ' ' ? c + sizeof(tag) - 1 : NULL;
}

size_t vd_offload_counters_nft_parse(const char *text, uint64_t *hits, size_t n)
{
	bool inside = false;

	return lines_count(text, nft_line, &inside, hits, n);
}

/* Runs argv (spawn.h: no shell, CAP_NET_ADMIN passed on) and returns its
 * output; NULL with why in why (whylen bytes) when it cannot run or fails. */
static char *tool_read(char *const *argv, char *why, size_t whylen)
{
	char err[256], *out = NULL;
	int rc = vd_spawn_read(argv, &out, err, sizeof(err));

	if (rc != 0) {
		snprintf(why, whylen, "%s %s: %s%s", argv[0], argv[1], rc > 0 ? "failed: " : "",
			 err[0] ? err : "no message");
		return NULL;
	}
	return out;
}

/* Counts a failed read (why) or a good one (NULL); logs the first failure
 * of a streak and the recovery, not every stats snapshot's. Under lock. */
static void read_result(struct vd_firewall_offload *ctx, const char *why)
{
	if (why) {
		ctx->read_errors++;
		if (!ctx->read_failing)
			vd_log(VD_LOG_ERROR, "offload counters: %s (offloaded rules' hits are short; "
			       "counted in verdictd_offload_counter_errors_total; logged again only "
			       "after a read succeeds)", why);
	} else if (ctx->read_failing) {
		vd_log(VD_LOG_INFO, "offload counters: read again");
	}
	ctx->read_failing = why != NULL;
}

/* hits[i] for the installed set's rule i + 1, both families. Under lock. */
static int kernel_hits(struct vd_firewall_offload *ctx, uint64_t *hits, size_t n)
{
	static char *const save[][5] = {
		{ "iptables-save", "-c", "-t", "filter", NULL },
		{ "ip6tables-save", "-c", "-t", "filter", NULL },
	};
	/* The family's tables, not the one: after the exit's removal the final
	 * report reads none, as iptables-save finds no tagged rule. */
	static char *const nft[] = { "nft", "list", "ruleset", "inet", NULL };
	char err[320];
	int ret = 0;

	if (ctx->netlink) {
		ret = vd_offload_counters_netlink(ctx->nft, hits, n, err, sizeof(err));
		read_result(ctx, ret < 0 ? err : NULL);
		return ret;
	}
	for (size_t t = 0; t < (ctx->nft ? 1 : 2); t++) {
		char *text = tool_read(ctx->nft ? nft : save[t], err, sizeof(err));

		if (!text) {
			ret = -1;
			continue;
		}
		if (ctx->nft)
			vd_offload_counters_nft_parse(text, hits, n);
		else
			vd_offload_counters_parse(text, hits, n);
		free(text);
	}
	read_result(ctx, ret < 0 ? err : NULL);
	return ret;
}

uint64_t vd_firewall_offload_read_errors(struct vd_firewall_offload *ctx)
{
	uint64_t n;

	pthread_mutex_lock(&ctx->lock);
	n = ctx->read_errors;
	pthread_mutex_unlock(&ctx->lock);
	return n;
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
	free(ctx->pending);
	ctx->pending = NULL;
	if (ctx->nnames) {
		ctx->pending = calloc(ctx->nnames, sizeof(*ctx->pending));
		ret = ctx->pending ? kernel_hits(ctx, ctx->pending, ctx->nnames) : -1;
		for (size_t i = 0; ctx->pending && i < ctx->nnames; i++)
			if (ctx->pending[i])
				base_add(ctx, ctx->names[i], ctx->pending[i]);
	}
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

void vd_firewall_offload_source(struct vd_firewall_offload *ctx, bool nft, bool netlink)
{
	pthread_mutex_lock(&ctx->lock);
	ctx->nft = nft;
	ctx->netlink = netlink;
	pthread_mutex_unlock(&ctx->lock);
}

/* Drops base entries whose rule the live table no longer has: as verdictd's
 * own counters, a rule that comes back later starts from 0. */
static void base_prune(struct vd_firewall_offload *ctx)
{
	for (size_t b = 0; b < ctx->nbase;) {
		bool kept = false;

		for (size_t i = 0; i < ctx->nnames && !kept; i++)
			kept = strcmp(ctx->names[i], ctx->base[b].name) == 0;
		if (kept)
			b++;
		else
			ctx->base[b] = ctx->base[--ctx->nbase];
	}
}

int vd_firewall_offload_commit(struct vd_firewall_offload *ctx, bool installed)
{
	int ret = 0;

	pthread_mutex_lock(&ctx->lock);
	if (!installed) {
		/* The old set stays, its counters running on from what was
		 * folded: take the fold back. */
		for (size_t i = 0; ctx->pending && i < ctx->nnames; i++)
			if (ctx->pending[i])
				base_add(ctx, ctx->names[i], -ctx->pending[i]);
	} else if (vd_rules_table_read(ctx->rules, names_copy, ctx) < 0) {
		vd_log(VD_LOG_ERROR, "offload counters: out of memory: offloaded hits not counted");
		ret = -1;
	} else {
		base_prune(ctx);
	}
	free(ctx->pending);
	ctx->pending = NULL;
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
	hits = ctx->nnames ? calloc(ctx->nnames, sizeof(*hits)) : NULL;
	ret = !ctx->nnames ? 0 : hits ? kernel_hits(ctx, hits, ctx->nnames) : -1;
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
