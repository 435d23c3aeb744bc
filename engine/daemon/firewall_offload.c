/* firewall_offload.c - which leading rules the kernel can evaluate, and
 * their iptables text (firewall_offload.h). */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall_offload.h"
#include "internal.h"

#define FRAG_LEN 64

/* One match list of a plan: each item a fragment of an iptables rule
 * ("-s 198.18.0.0/15"); `any`: the rule does not constrain it (one
 * iteration with no fragment). */
struct frags {
	bool any;
	size_t n;
	char s[VD_OFFLOAD_MAX_EXPANSION][FRAG_LEN];
};

/* A verdictd rule in one family: the product of its lists is its kernel
 * rules; l4 and tail go into every one of them. */
struct plan {
	bool matches;                 /* false: no packet of the family can match */
	unsigned expansion;           /* kernel rules (a MARK rule not counted) */
	bool proto_any;
	size_t nproto;
	uint8_t proto[VD_OFFLOAD_MAX_EXPANSION];
	struct frags src, dst, iif, oif, sport, dport;
	char tcp[96];                 /* --tcp-flags, for -p tcp */
	char icmp[64];                /* --icmp-type / --icmpv6-type */
	char tail[320];               /* owner, mark, conntrack, length */
};

/* Both families' plans of a rule, and why it stays in verdictd. */
struct planner {
	const struct vd_firewall_offload *ctx;
	enum vd_offload_hook hook;
	struct plan fam[2];           /* [0] IPv4, [1] IPv6 */
	char why[200];
};

static const char *const hook_names[] = { "input", "forward", "output" };

const char *vd_offload_hook_name(enum vd_offload_hook hook)
{
	return hook_names[hook];
}

static int stop(struct planner *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int stop(struct planner *pl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pl->why, sizeof(pl->why), fmt, ap);
	va_end(ap);
	return -1;
}

static void frag_add(struct frags *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void frag_add(struct frags *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->s[f->n++], FRAG_LEN, fmt, ap);
	va_end(ap);
}

/* What the rule does that no iptables rule can: 0 when nothing. */
static int action_check(struct planner *pl, const struct vd_rule *r)
{
	const struct vd_verdict *v = &r->verdict;
	uint32_t field = pl->ctx->kmark_mask;

	if (r->action == VD_ACTION_LUA)
		return stop(pl, "it calls a Lua hook");
	if (r->action == VD_ACTION_PLUGIN)
		return stop(pl, "it calls a C plugin");
	if (r->set.fields)
		return stop(pl, "it rewrites packets (set)");
	if (r->shape.keys)
		return stop(pl, "it shapes packets (delay, loss, rate, limit)");
	if (r->log)
		return stop(pl, "it logs (log = true): the kernel cannot write verdictd's logs");
	if (v->kind == VD_VERDICT_QUEUE)
		return stop(pl, "verdict queue: another queue's program decides");
	if (v->kind == VD_VERDICT_REPEAT)
		return stop(pl, "verdict repeat: the packet goes through the hook again");
	/* Reject (and connection bypass) are carried out by the chain's own
	 * steps from a mark verdictd sets; not offloaded yet. */
	if (v->kind != VD_VERDICT_ACCEPT && v->kind != VD_VERDICT_DROP)
		return stop(pl, "verdict kind %#x is not offloaded (only accept and drop are)", v->kind);
	if (v->flags & ~(uint32_t)VD_VERDICT_F_MARK)
		return stop(pl, "its verdict has flags %#x (only a mark is offloaded)", v->flags);
	if ((v->flags & VD_VERDICT_F_MARK) && (v->mark_mask & field))
		return stop(pl, "its mark %#x/%#x overlaps verdictd's kernel mark field %#x", v->mark,
			    v->mark_mask, field);
	/* The MARK rule goes first: the verdict rule after it must still match
	 * what the MARK rule matched, and nothing it did not. */
	if ((v->flags & VD_VERDICT_F_MARK) && (r->checks & VD_CHECK_MARK) &&
	    ((v->mark ^ r->mark_value) & v->mark_mask & r->mark_mask))
		return stop(pl, "it sets mark bits it matches (match_mark %#x/%#x, mark %#x/%#x)",
			    r->mark_value, r->mark_mask, v->mark, v->mark_mask);
	return 0;
}

/* Matches that depend on the hook or on what the queues deliver. */
static int hook_check(struct planner *pl, const struct vd_rule *r)
{
	enum vd_offload_hook h = pl->hook;

	if (r->dim[VD_DIM_QUEUE].constrained)
		return stop(pl, "match_queue: the queue a packet would reach is not known before the "
			    "queue rule");
	if (r->dim[VD_DIM_IIF].constrained && h == VD_OFFLOAD_OUTPUT)
		return stop(pl, "iif in the output hook (iptables has no -i there)");
	if (r->dim[VD_DIM_OIF].constrained && h == VD_OFFLOAD_INPUT)
		return stop(pl, "oif in the input hook (iptables has no -o there)");
	if ((r->checks & (VD_CHECK_UID | VD_CHECK_GID)) && h != VD_OFFLOAD_OUTPUT)
		return stop(pl, "uid/gid: the kernel's owner match works in the output hook only");
	if ((r->checks & (VD_CHECK_UID | VD_CHECK_GID)) && pl->ctx->no_uid_gid)
		return stop(pl, "uid/gid: the queues deliver no uid/gid, so verdictd never matches it");
	if ((r->checks & VD_CHECK_CT_STATE) && pl->ctx->no_conntrack)
		return stop(pl, "ct_state: the queues deliver no conntrack state (to verdictd every "
			    "packet is \"invalid\")");
	return 0;
}

/* The protocols of family f (4 or 6) a rule can match, as its other matches
 * narrow them: ports need TCP or UDP (iptables' port matches here), TCP
 * flags TCP, an ICMP type the family's ICMP. */
static int plan_protocols(struct planner *pl, const struct vd_rule *r, int f, struct plan *p)
{
	const struct vd_rule_dim_spec *d = &r->dim[VD_DIM_PROTO];
	bool ports = r->dim[VD_DIM_SPORT].constrained || r->dim[VD_DIM_DPORT].constrained;
	bool flags = r->checks & VD_CHECK_TCP_FLAGS, icmp = r->checks & VD_CHECK_ICMP_TYPE;
	uint8_t want_icmp = f == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;

	p->proto_any = !d->constrained && !ports && !flags && !icmp;
	p->nproto = 0;
	if (p->proto_any)
		return 0;
	if (!d->constrained && ports && !flags)
		return stop(pl, "ports without proto: verdictd matches UDP-Lite and SCTP ports too "
			    "(say proto = \"tcp\" or \"udp\")");
	for (unsigned n = 0; n < 256; n++) {
		bool in = !d->constrained;

		for (size_t i = 0; i < d->nranges && !in; i++)
			in = n >= d->ranges[i].lo && n <= d->ranges[i].hi;
		if (!in || (n == 0 && !d->constrained))
			continue;
		if (n == 0)
			return stop(pl, "protocol 0: to iptables -p 0 means any protocol");
		if (ports && (n == IPPROTO_UDPLITE || n == IPPROTO_SCTP))
			return stop(pl, "ports of protocol %u: only TCP and UDP ports are offloaded", n);
		if ((ports && n != IPPROTO_TCP && n != IPPROTO_UDP) || (flags && n != IPPROTO_TCP) ||
		    (icmp && n != want_icmp))
			continue; /* verdictd never matches these either */
		if (p->nproto == VD_OFFLOAD_MAX_EXPANSION)
			return stop(pl, "more than %d protocols", VD_OFFLOAD_MAX_EXPANSION);
		p->proto[p->nproto++] = (uint8_t)n;
	}
	p->matches &= p->nproto > 0;
	return 0;
}

/* A 128-bit address key's block [b, b + 2^host) as a prefix of family f;
 * false when the block has no address of f. IPv4 lives in ::ffff:0:0/96
 * (rule.h); IPv6 packets with such addresses never reach netfilter (the
 * IPv6 stack drops them first), so that part is IPv4's alone. */
static bool block_prefix(vd_key b, unsigned host, int f, char *out, size_t len, const char *opt)
{
	const vd_key lo4 = (vd_key)0xffff << 32, hi4 = lo4 | 0xffffffffu;
	vd_key end = host >= 128 ? ~(vd_key)0 : b + (((vd_key)1 << host) - 1);
	char text[INET6_ADDRSTRLEN];
	uint8_t a[16];

	if (f == 4) {
		if (b <= lo4 && end >= hi4) {
			snprintf(out, len, "%s 0.0.0.0/0", opt);
			return true;
		}
		if (b < lo4 || end > hi4)
			return false;
		snprintf(out, len, "%s %u.%u.%u.%u/%u", opt, (unsigned)(b >> 24) & 255,
			 (unsigned)(b >> 16) & 255, (unsigned)(b >> 8) & 255, (unsigned)b & 255,
			 32 - host);
		return true;
	}
	if (b >= lo4 && end <= hi4)
		return false;
	for (int i = 0; i < 16; i++)
		a[i] = (uint8_t)(b >> (8 * (15 - i)));
	inet_ntop(AF_INET6, a, text, sizeof(text));
	snprintf(out, len, "%s %s/%u", opt, text, 128 - host);
	return true;
}

/* An address dimension as prefixes of family f: each range cut into the
 * fewest aligned blocks. */
static int plan_addresses(struct planner *pl, const struct vd_rule_dim_spec *d, int f,
			  const char *opt, struct frags *out, struct plan *p)
{
	out->any = !d->constrained;
	out->n = 0;
	for (size_t i = 0; i < d->nranges; i++) {
		vd_key lo = d->ranges[i].lo, hi = d->ranges[i].hi;

		for (;;) {
			unsigned host = 0;
			char text[FRAG_LEN];

			while (host < 128 && !(lo & ((vd_key)1 << host)) &&
			       (host == 127 ? lo == 0 && hi == ~(vd_key)0
					    : hi - lo >= ((vd_key)2 << host) - 1))
				host++;
			if (block_prefix(lo, host, f, text, sizeof(text), opt)) {
				if (out->n == VD_OFFLOAD_MAX_EXPANSION)
					return stop(pl, "%s: more than %d prefixes (an ipset is not "
						    "generated; the set stays in verdictd)", opt[1] == 's'
						    ? "src" : "dst", VD_OFFLOAD_MAX_EXPANSION);
				memcpy(out->s[out->n++], text, FRAG_LEN);
			}
			if (host == 128 || hi - lo == ((vd_key)1 << host) - 1)
				break;
			lo += (vd_key)1 << host;
		}
	}
	p->matches &= out->any || out->n > 0;
	return 0;
}

static int plan_ports(struct planner *pl, const struct vd_rule_dim_spec *d, const char *opt,
		      struct frags *out)
{
	out->any = !d->constrained;
	out->n = 0;
	for (size_t i = 0; i < d->nranges; i++) {
		unsigned lo = (unsigned)d->ranges[i].lo, hi = (unsigned)d->ranges[i].hi;

		if (out->n == VD_OFFLOAD_MAX_EXPANSION)
			return stop(pl, "more than %d %s ranges", VD_OFFLOAD_MAX_EXPANSION, opt + 2);
		if (lo == hi)
			frag_add(out, "%s %u", opt, lo);
		else
			frag_add(out, "%s %u:%u", opt, lo, hi);
	}
	return 0;
}

static int plan_ifaces(struct planner *pl, const struct vd_rule_dim_spec *d, const char *opt,
		       struct frags *out)
{
	out->any = !d->constrained;
	out->n = 0;
	for (size_t i = 0; i < d->nranges; i++)
		for (vd_key k = d->ranges[i].lo; k <= d->ranges[i].hi; k++) {
			char name[IF_NAMESIZE];

			if (out->n == VD_OFFLOAD_MAX_EXPANSION)
				return stop(pl, "more than %d interfaces", VD_OFFLOAD_MAX_EXPANSION);
			if (!if_indextoname((unsigned)k, name))
				return stop(pl, "interface index %u has no name now", (unsigned)k);
			frag_add(out, "%s %s", opt, name);
		}
	return 0;
}

static void tcp_flag_names(char *out, size_t len, uint8_t bits)
{
	static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };
	size_t off = 0;

	out[0] = '\0';
	for (int i = 0; i < 8; i++)
		if (bits & (1u << i))
			off += (size_t)snprintf(out + off, len - off, "%s%s", off ? "," : "", names[i]);
	if (!off)
		snprintf(out, len, "NONE");
}

/* Conntrack states as --ctstate takes them; -1 for a set verdictd's loader
 * never makes (a direction without the other). */
static int ct_names(struct planner *pl, uint32_t bits, char *out, size_t len)
{
	static const struct { uint32_t bits; const char *name; } states[] = {
		{ 1u << VD_CT_NEW, "NEW" },
		{ 1u << VD_CT_ESTABLISHED | 1u << VD_CT_ESTABLISHED_REPLY, "ESTABLISHED" },
		{ 1u << VD_CT_RELATED | 1u << VD_CT_RELATED_REPLY, "RELATED" },
		{ 1u << VD_CT_UNTRACKED, "UNTRACKED" }, { VD_CT_INVALID_BIT, "INVALID" },
	};
	uint32_t left = bits;
	size_t off = 0;

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		if ((bits & states[i].bits) == 0)
			continue;
		if ((bits & states[i].bits) != states[i].bits)
			return stop(pl, "ct_state %#x: one direction of a state only", bits);
		off += (size_t)snprintf(out + off, len - off, "%s%s", off ? "," : "", states[i].name);
		left &= ~states[i].bits;
	}
	if (left)
		return stop(pl, "ct_state %#x: a state iptables does not name", bits);
	return 0;
}

static void range_text(char *out, size_t len, uint32_t lo, uint32_t hi, char sep)
{
	if (lo == hi)
		snprintf(out, len, "%u", lo);
	else
		snprintf(out, len, "%u%c%u", lo, sep, hi);
}

/* The matches every kernel rule of the rule carries: TCP flags, ICMP type,
 * owner, mark, conntrack state, length. */
static int plan_checks(struct planner *pl, const struct vd_rule *r, int f, struct plan *p)
{
	char a[32], b[32];
	size_t off = 0, len = sizeof(p->tail);

	p->tcp[0] = p->icmp[0] = p->tail[0] = '\0';
	if ((r->checks & VD_CHECK_TCP_FLAGS) && r->tcp_mask) {
		tcp_flag_names(a, sizeof(a), r->tcp_mask);
		tcp_flag_names(b, sizeof(b), r->tcp_value);
		snprintf(p->tcp, sizeof(p->tcp), " --tcp-flags %s %s", a, b);
	}
	if (r->checks & VD_CHECK_ICMP_TYPE) {
		char code[8];

		snprintf(code, sizeof(code), "/%u", r->icmp_code);
		snprintf(p->icmp, sizeof(p->icmp), " -m %s --%s-type %u%s", f == 4 ? "icmp" : "icmp6",
			 f == 4 ? "icmp" : "icmpv6", r->icmp_type,
			 (r->checks & VD_CHECK_ICMP_CODE) ? code : "");
	}
	if (r->checks & (VD_CHECK_UID | VD_CHECK_GID)) {
		off += (size_t)snprintf(p->tail + off, len - off, " -m owner");
		range_text(a, sizeof(a), r->uid_lo, r->uid_hi, '-');
		if (r->checks & VD_CHECK_UID)
			off += (size_t)snprintf(p->tail + off, len - off, " --uid-owner %s", a);
		range_text(a, sizeof(a), r->gid_lo, r->gid_hi, '-');
		if (r->checks & VD_CHECK_GID)
			off += (size_t)snprintf(p->tail + off, len - off, " --gid-owner %s", a);
	}
	if ((r->checks & VD_CHECK_MARK) && r->mark_mask)
		off += (size_t)snprintf(p->tail + off, len - off, " -m mark --mark %#x/%#x",
					r->mark_value & r->mark_mask, r->mark_mask);
	if (r->checks & VD_CHECK_CT_STATE) {
		char states[64];

		if (ct_names(pl, r->ct_states, states, sizeof(states)) < 0)
			return -1;
		off += (size_t)snprintf(p->tail + off, len - off, " -m conntrack --ctstate %s", states);
	}
	if (r->checks & VD_CHECK_LEN) {
		/* The length match takes 16 bits; longer packets only in a
		 * range that reaches past them all. */
		if (r->len_lo > 65535)
			p->matches = false;
		range_text(a, sizeof(a), r->len_lo, r->len_hi > 65535 ? 65535 : r->len_hi, ':');
		snprintf(p->tail + off, len - off, " -m length --length %s", a);
	}
	return 0;
}

static size_t frag_count(const struct frags *f)
{
	return f->any ? 1 : f->n;
}

static int plan_family(struct planner *pl, const struct vd_rule *r, int f, struct plan *p)
{
	size_t n;

	p->matches = true;
	if (plan_protocols(pl, r, f, p) < 0 ||
	    plan_addresses(pl, &r->dim[VD_DIM_SRC], f, "-s", &p->src, p) < 0 ||
	    plan_addresses(pl, &r->dim[VD_DIM_DST], f, "-d", &p->dst, p) < 0 ||
	    plan_ports(pl, &r->dim[VD_DIM_SPORT], "--sport", &p->sport) < 0 ||
	    plan_ports(pl, &r->dim[VD_DIM_DPORT], "--dport", &p->dport) < 0 ||
	    plan_ifaces(pl, &r->dim[VD_DIM_IIF], "-i", &p->iif) < 0 ||
	    plan_ifaces(pl, &r->dim[VD_DIM_OIF], "-o", &p->oif) < 0 || plan_checks(pl, r, f, p) < 0)
		return -1;
	n = (p->proto_any ? 1 : p->nproto) * frag_count(&p->src) * frag_count(&p->dst) *
	    frag_count(&p->iif) * frag_count(&p->oif) * frag_count(&p->sport) *
	    frag_count(&p->dport);
	if (!p->matches)
		n = 0;
	if (n > VD_OFFLOAD_MAX_EXPANSION)
		return stop(pl, "it would take %zu iptables rules (protocols x prefixes x ports x "
			    "interfaces; at most %d)", n, VD_OFFLOAD_MAX_EXPANSION);
	p->expansion = (unsigned)n;
	return 0;
}

/* Plans rule r in both families; -1 with pl->why when it stays in verdictd. */
static int plan_rule(struct planner *pl, const struct vd_rule *r)
{
	if (action_check(pl, r) < 0 || hook_check(pl, r) < 0 ||
	    plan_family(pl, r, 4, &pl->fam[0]) < 0 || plan_family(pl, r, 6, &pl->fam[1]) < 0)
		return -1;
	if (!pl->fam[0].matches && !pl->fam[1].matches)
		return stop(pl, "it matches no packet of either family (family mismatch)");
	return 0;
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
static void combination(const struct plan *p, const char *pn, size_t c, char *buf, size_t len)
{
	const struct frags *l[] = { &p->src, &p->dst, &p->iif, &p->oif, &p->sport, &p->dport };
	const char *s[6];
	bool tcp = pn && strcmp(pn, "tcp") == 0, udp = pn && strcmp(pn, "udp") == 0;
	size_t off = 0;

	for (size_t k = 6; k-- > 0;) {
		size_t n = frag_count(l[k]);

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

/* Writes one kernel rule per combination of the plan's lists (and the MARK
 * rule before each, for a rule with a mark). Returns the lines written. */
static unsigned plan_write(FILE *out, const char *chain, const struct plan *p,
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
				match, r->index, v->kind == VD_VERDICT_ACCEPT ? "ACCEPT" : "DROP");
			lines++;
		}
	}
	return lines;
}

struct walk {
	struct planner *pl;
	FILE *out;                    /* write: the text; NULL: count only */
	const char *chain;
	int family;                   /* 4, 6; 0: both (counting) */
	size_t run;                   /* rules offloaded */
	size_t total;                 /* rules in the table */
	unsigned lines, kernel[2];    /* lines written; kernel rules per family */
	const struct vd_rule *stopped; /* the first rule left in verdictd */
};

static int walk_table(const struct vd_rule_file *f, void *arg)
{
	struct walk *w = arg;

	w->total = f->nrules;
	for (size_t i = 0; i < f->nrules; i++) {
		const struct vd_rule *r = &f->rules[i];

		if (plan_rule(w->pl, r) < 0) {
			w->stopped = r;
			break;
		}
		w->run++;
		for (int k = 0; k < 2; k++) {
			const struct plan *p = &w->pl->fam[k];

			w->kernel[k] += p->matches ? p->expansion *
				((r->verdict.flags & VD_VERDICT_F_MARK) ? 2 : 1) : 0;
		}
		if (w->out)
			w->lines += plan_write(w->out, w->chain, &w->pl->fam[w->family == 4 ? 0 : 1], r);
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
	struct planner *pl = calloc(1, sizeof(*pl));
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

void vd_firewall_offload_check(struct vd_firewall_offload *ctx, enum vd_offload_hook hook,
			       FILE *out)
{
	struct planner *pl = calloc(1, sizeof(*pl));
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
		fprintf(out, " with --firewall (%u iptables rules, %u ip6tables rules)", w.kernel[0],
			w.kernel[1]);
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
}

void vd_firewall_offload_fini(struct vd_firewall_offload *ctx)
{
	free(ctx->names);
	free(ctx->base);
	pthread_mutex_destroy(&ctx->lock);
}
