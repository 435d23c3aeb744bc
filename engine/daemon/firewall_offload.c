/* firewall_offload.c - the run of leading rules the kernel can evaluate
 * (each planned by offload_plan.c), written as iptables text or summed up
 * for --check (firewall_offload.h). */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <verdict/kernel_mark.h>

#include "firewall.h"
#include "firewall_offload.h"
#include "internal.h"
#include "offload_nft.h"
#include "offload_plan.h"

static const char *const hook_names[] = { "input", "forward", "output" };

const char *vd_offload_hook_name(enum vd_offload_hook hook)
{
	return hook_names[hook];
}

static const char *proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	default: snprintf(buf, len, "%u", p); return buf;
	}
}

/* The matches of combination c of the plan's lists (mixed radix, the last
 * list fastest) for protocol name pn (NULL: any), into buf. */
static void combination(const struct vd_offload_plan *p, const char *pn, size_t c, char *buf, size_t len)
{
	const struct vd_offload_frags *l[] = { &p->src, &p->dst, &p->iif, &p->oif, &p->sport, &p->dport };
	const char *s[6];
	bool tcp = pn && strcmp(pn, "tcp") == 0, udp = pn && strcmp(pn, "udp") == 0;
	size_t off = 0;

	for (size_t k = 6; k-- > 0;) {
		size_t n = vd_offload_frags_count(l[k]);

		s[k] = l[k]->any ? "" : l[k]->s[c % n];
		c /= n;
	}
	buf[0] = '\0';
	if (pn)
		off += (size_t)snprintf(buf + off, len - off, " -p %s", pn);
	for (size_t k = 0; k < 4; k++)
		if (*s[k])
			off += (size_t)snprintf(buf + off, len - off, " %s", s[k]);
	/* Ports and TCP flags belong to the protocol's own match. */
	if ((tcp || udp) && (*s[4] || *s[5] || (tcp && p->tcp[0])))
		off += (size_t)snprintf(buf + off, len - off, " -m %s", pn);
	for (size_t k = 4; k < 6; k++)
		if (*s[k])
			off += (size_t)snprintf(buf + off, len - off, " %s", s[k]);
	snprintf(buf + off, len - off, "%s%s%s", tcp ? p->tcp : "", p->icmp, p->tail);
}

/* The target of r's verdict rule for protocol name pn (NULL: any) in
 * family (AF_INET, AF_INET6). */
static void verdict_target(const struct vd_rule *r, const char *pn, int family, char *buf, size_t len)
{
	const struct vd_verdict *v = &r->verdict;

	if (v->kind != VD_VERDICT_REJECT)
		snprintf(buf, len, "%s", v->kind == VD_VERDICT_ACCEPT ? "ACCEPT" : "DROP");
	else /* the REJECT_* codes follow enum vd_reject_with's order */
		snprintf(buf, len, "REJECT --reject-with %s",
			 vd_firewall_reject_with(VD_KMARK_REJECT_PORT + v->queue, family,
						 pn && strcmp(pn, "tcp") == 0));
}

/* Writes one kernel rule per combination of the plan's lists (and the MARK
 * rule before each, for a rule with a mark). Returns the lines written. */
static unsigned plan_write(FILE *out, const char *chain, int family, const struct vd_offload_plan *p,
			   const struct vd_rule *r)
{
	const struct vd_verdict *v = &r->verdict;
	size_t per_proto = p->proto_any ? p->expansion : p->expansion / p->nproto;
	unsigned lines = 0;

	if (!p->matches)
		return 0;
	for (size_t pi = 0; pi < (p->proto_any ? 1 : p->nproto); pi++) {
		char pbuf[8];
		const char *pn = p->proto_any ? NULL : proto_name(p->proto[pi], pbuf, sizeof(pbuf));
		char target[64];

		verdict_target(r, pn, family, target, sizeof(target));

		for (size_t c = 0; c < per_proto; c++) {
			char match[640];

			combination(p, pn, c, match, sizeof(match));
			if (v->flags & VD_VERDICT_F_MARK) {
				fprintf(out, "-A %s%s -m comment --comment \"verdictd rule %u\" -j MARK "
					"--set-xmark %#x/%#x\n", chain, match, r->index,
					v->mark & v->mark_mask, v->mark_mask);
				lines++;
			}
			fprintf(out, "-A %s%s -m comment --comment \"verdictd rule %u\" -j %s\n", chain,
				match, r->index, target);
			lines++;
		}
	}
	return lines;
}

struct walk {
	struct vd_offload_planner *pl;
	FILE *out;                    /* write: the text; NULL: count only */
	const char *chain;            /* NULL: nft, the base chain of pl->hook */
	int family;                   /* 4, 6; 0: both (counting) */
	size_t run;                   /* rules offloaded */
	size_t total;                 /* rules in the table */
	unsigned lines, kernel[2];    /* lines written; iptables rules per family */
	unsigned nft;                 /* nft rules */
	const struct vd_rule *stopped; /* the first rule left in verdictd */
};

static int walk_table(const struct vd_rule_file *f, void *arg)
{
	struct walk *w = arg;

	w->total = f->nrules;
	for (size_t i = 0; i < f->nrules; i++) {
		const struct vd_rule *r = &f->rules[i];

		if (vd_offload_plan_rule(w->pl, r) < 0) {
			w->stopped = r;
			break;
		}
		w->run++;
		for (int k = 0; k < 2; k++) {
			const struct vd_offload_plan *p = &w->pl->fam[k];

			w->kernel[k] += p->matches ? p->expansion *
				((r->verdict.flags & VD_VERDICT_F_MARK) ? 2 : 1) : 0;
		}
		w->nft += vd_offload_nft_rule(NULL, w->pl, r);
		if (w->out && !w->chain)
			w->lines += vd_offload_nft_rule(w->out, w->pl, r);
		else if (w->out)
			w->lines += plan_write(w->out, w->chain, w->family == 4 ? AF_INET : AF_INET6,
					       &w->pl->fam[w->family == 4 ? 0 : 1], r);
	}
	return 0;
}

static enum vd_offload_hook chain_hook(const char *chain, enum vd_offload_hook dflt)
{
	static const char *const ends[] = { "-INPUT", "-FORWARD", "-OUTPUT" };
	size_t n = strlen(chain);

	for (int h = 0; h < 3; h++) {
		size_t e = strlen(ends[h]);

		if (n >= e && strcmp(chain + n - e, ends[h]) == 0)
			return (enum vd_offload_hook)h;
	}
	return dflt;
}

unsigned vd_firewall_offload_write(FILE *out, const char *chain, int family, void *arg)
{
	struct vd_firewall_offload *ctx = arg;
	struct vd_offload_planner *pl = calloc(1, sizeof(*pl));
	struct walk w = { .pl = pl, .out = out, .chain = chain,
			  .family = family == AF_INET6 ? 6 : 4 };

	if (!pl) {
		vd_log(VD_LOG_ERROR, "offload: out of memory: no rule offloaded to %s", chain);
		return 0;
	}
	pl->ctx = ctx;
	pl->hook = chain_hook(chain, ctx->hook);
	vd_rules_table_read(ctx->rules, walk_table, &w);
	free(pl);
	return w.lines;
}

unsigned vd_firewall_offload_write_nft(FILE *out, unsigned hook, void *arg)
{
	struct vd_firewall_offload *ctx = arg;
	struct vd_offload_planner *pl = calloc(1, sizeof(*pl));
	struct walk w = { .pl = pl, .out = out };
	/* enum vd_firewall_hook bit h is vd_offload_hook h */
	enum vd_offload_hook h = (enum vd_offload_hook)__builtin_ctz(hook);

	if (!pl) {
		vd_log(VD_LOG_ERROR, "offload: out of memory: no rule offloaded to nft chain %s",
		       hook_names[h]);
		return 0;
	}
	pl->ctx = ctx;
	pl->hook = h;
	vd_rules_table_read(ctx->rules, walk_table, &w);
	free(pl);
	return w.lines;
}

void vd_firewall_offload_check(struct vd_firewall_offload *ctx, enum vd_offload_hook hook,
			       FILE *out)
{
	struct vd_offload_planner *pl = calloc(1, sizeof(*pl));
	struct walk w = { .pl = pl };

	if (!pl) {
		fprintf(out, "offload %s: out of memory\n", hook_names[hook]);
		return;
	}
	pl->ctx = ctx;
	pl->hook = hook;
	vd_rules_table_read(ctx->rules, walk_table, &w);
	fprintf(out, "offload %s: ", hook_names[hook]);
	size_t n = w.total;
	if (w.run == 0)
		fprintf(out, "no rule runs in the kernel");
	else if (w.run == 1)
		fprintf(out, "rule 1 of %zu runs in the kernel", n);
	else
		fprintf(out, "rules 1-%zu of %zu run in the kernel", w.run, n);
	if (w.run)
		fprintf(out, " with --firewall (iptables: %u IPv4 and %u IPv6 rules; nft: %u rules)",
			w.kernel[0], w.kernel[1], w.nft);
	if (w.stopped)
		fprintf(out, "; rule %u \"%s\" and those after it stay in verdictd: %s", w.stopped->index,
			w.stopped->name, pl->why);
	else
		fprintf(out, "; only the default verdict stays in verdictd");
	fputc('\n', out);
	free(pl);
}

void vd_firewall_offload_init(struct vd_firewall_offload *ctx)
{
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->names = NULL;
	ctx->nnames = 0;
	ctx->base = NULL;
	ctx->nbase = 0;
	ctx->pending = NULL;
}

void vd_firewall_offload_fini(struct vd_firewall_offload *ctx)
{
	free(ctx->names);
	free(ctx->base);
	free(ctx->pending);
	pthread_mutex_destroy(&ctx->lock);
}
