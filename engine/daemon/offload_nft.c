/* offload_nft.c - a planned rule as nft rules (offload_nft.h). */
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "offload_nft.h"

/* The value of a plan fragment ("-s 198.18.0.0/15": "198.18.0.0/15"). */
static const char *frag_value(const char *frag)
{
	const char *space = strchr(frag, ' ');

	return space ? space + 1 : frag;
}

/* How a list's values are written. */
enum list_kind { LIST_ADDRESS, LIST_PORT, LIST_IFACE };

/* One prefix of a kernel set's list, ", "-separated. */
struct set_items {
	FILE *out;
	bool more;
};

static void set_item(const char *prefix, void *arg)
{
	struct set_items *it = arg;

	fprintf(it->out, "%s%s", it->more ? ", " : "", prefix);
	it->more = true;
}

/* " KEY ITEM" or " KEY { ITEM, ... }" for a constrained list: a port range
 * "lo-hi" for iptables' "lo:hi", an interface quoted. A prefix /0 is no
 * constraint in its family (nft would refuse it in a set beside others). */
static void list_add(FILE *out, const char *key, const struct vd_offload_frags *f, enum list_kind kind)
{
	if (f->any)
		return;
	if (f->set_dim) {
		/* Too many prefixes for iptables rules: an anonymous set holds
		 * them all (no /0 among more than a few). */
		struct set_items it = { .out = out };

		fprintf(out, " %s { ", key);
		vd_offload_prefixes(f->set_dim, f->set_family, SIZE_MAX, set_item, &it);
		fputs(" }", out);
		return;
	}
	for (size_t i = 0; i < f->n && kind == LIST_ADDRESS; i++) {
		const char *v = frag_value(f->s[i]);
		size_t len = strlen(v);

		if (len >= 2 && strcmp(v + len - 2, "/0") == 0)
			return;
	}
	fprintf(out, " %s %s", key, f->n > 1 ? "{ " : "");
	for (size_t i = 0; i < f->n; i++) {
		const char *v = frag_value(f->s[i]), *colon = strchr(v, ':');

		fputs(i ? ", " : "", out);
		if (kind == LIST_IFACE)
			fprintf(out, "\"%s\"", v);
		else if (kind == LIST_PORT && colon)
			fprintf(out, "%.*s-%s", (int)(colon - v), v, colon + 1);
		else
			fputs(v, out);
	}
	fputs(f->n > 1 ? " }" : "", out);
}

static void proto_add(FILE *out, const uint8_t *proto, size_t n)
{
	fprintf(out, " meta l4proto %s", n > 1 ? "{ " : "");
	for (size_t i = 0; i < n; i++) {
		const char *sep = i ? ", " : "";

		if (proto[i] == IPPROTO_TCP)
			fprintf(out, "%stcp", sep);
		else if (proto[i] == IPPROTO_UDP)
			fprintf(out, "%sudp", sep);
		else
			fprintf(out, "%s%u", sep, proto[i]);
	}
	fputs(n > 1 ? " }" : "", out);
}

/* nft's names of the TCP flag bits, FIN first. */
static void tcp_flags_add(FILE *out, const char *pre, uint8_t bits)
{
	static const char *const names[] = { "fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr" };
	bool first = true;

	fputs(pre, out);
	if (!bits)
		fputs("0x0", out);
	for (int i = 0; i < 8; i++)
		if (bits & (1u << i)) {
			fprintf(out, "%s%s", first ? "" : " | ", names[i]);
			first = false;
		}
}

static void range_add(FILE *out, const char *key, uint32_t lo, uint32_t hi)
{
	if (lo == hi)
		fprintf(out, " %s %u", key, lo);
	else
		fprintf(out, " %s %u-%u", key, lo, hi);
}

/* The matches after the protocol's: addresses, interfaces, ports, then
 * offload_plan.c's checks (tcp flags, icmp, owner, mark, conntrack, length). */
static void matches_add(FILE *out, const struct vd_offload_plan *p, const struct vd_rule *r, int f)
{
	list_add(out, f == 4 ? "ip saddr" : "ip6 saddr", &p->src, LIST_ADDRESS);
	list_add(out, f == 4 ? "ip daddr" : "ip6 daddr", &p->dst, LIST_ADDRESS);
	list_add(out, "iifname", &p->iif, LIST_IFACE);
	list_add(out, "oifname", &p->oif, LIST_IFACE);
	list_add(out, "th sport", &p->sport, LIST_PORT);
	list_add(out, "th dport", &p->dport, LIST_PORT);
	if ((r->checks & VD_CHECK_TCP_FLAGS) && r->tcp_mask) {
		tcp_flags_add(out, " tcp flags & (", r->tcp_mask);
		tcp_flags_add(out, ") == ", r->tcp_value);
	}
	if (r->checks & VD_CHECK_ICMP_TYPE) {
		const char *icmp = f == 4 ? "icmp" : "icmpv6";

		fprintf(out, " %s type %u", icmp, r->icmp_type);
		if (r->checks & VD_CHECK_ICMP_CODE)
			fprintf(out, " %s code %u", icmp, r->icmp_code);
	}
	if (r->checks & VD_CHECK_UID)
		range_add(out, "meta skuid", r->uid_lo, r->uid_hi);
	if (r->checks & VD_CHECK_GID)
		range_add(out, "meta skgid", r->gid_lo, r->gid_hi);
	if ((r->checks & VD_CHECK_MARK) && r->mark_mask)
		fprintf(out, " meta mark & 0x%08x == 0x%08x", r->mark_mask,
			 r->mark_value & r->mark_mask);
	if (p->ct_states[0]) {
		/* iptables' names in lower case are nft's */
		fputs(" ct state { ", out);
		for (const char *c = p->ct_states; *c; c++)
			if (*c == ',')
				fputs(", ", out);
			else
				fputc(tolower((unsigned char)*c), out);
		fputs(" }", out);
	}
	/* As the iptables flavour's length match: 16 bits (the plan leaves no
	 * packet of a rule whose range starts past them). */
	if (r->checks & VD_CHECK_LEN)
		range_add(out, "meta length", r->len_lo, r->len_hi > 65535 ? 65535 : r->len_hi);
}

/* The statements: counter, the mark, the verdict (reset: for TCP). */
static void verdict_add(FILE *out, const struct vd_rule *r, bool tcp)
{
	const struct vd_verdict *v = &r->verdict;

	fputs(" counter", out);
	if (v->flags & VD_VERDICT_F_MARK)
		fprintf(out, " meta mark set meta mark & 0x%08x | 0x%08x", ~v->mark_mask,
			 v->mark & v->mark_mask);
	if (v->kind == VD_VERDICT_ACCEPT)
		fputs(" accept", out);
	else if (v->kind == VD_VERDICT_DROP)
		fputs(" drop", out);
	else if (v->queue == VD_REJECT_TCP_RESET && tcp)
		fputs(" reject with tcp reset", out);
	else if (v->queue == VD_REJECT_ADMIN_PROHIBITED)
		fputs(" reject with icmpx type admin-prohibited", out);
	else if (v->queue == VD_REJECT_HOST_UNREACHABLE)
		fputs(" reject with icmpx type host-unreachable", out);
	else
		fputs(" reject with icmpx type port-unreachable", out);
	fprintf(out, " comment \"verdictd rule %u\"", r->index);
}

/* One nft rule of family f over protocols proto[0..n) (n 0: any). */
static void rule_write(FILE *out, const struct vd_offload_plan *p, const struct vd_rule *r, int f,
		       const uint8_t *proto, size_t n, bool tcp)
{
	fprintf(out, "\t\tmeta nfproto %s", f == 4 ? "ipv4" : "ipv6");
	if (n)
		proto_add(out, proto, n);
	matches_add(out, p, r, f);
	verdict_add(out, r, tcp);
	fputc('\n', out);
}

unsigned vd_offload_nft_rule(FILE *out, const struct vd_offload_planner *pl, const struct vd_rule *r)
{
	bool reset = r->verdict.kind == VD_VERDICT_REJECT && r->verdict.queue == VD_REJECT_TCP_RESET;
	unsigned rules = 0;

	for (int k = 0; k < 2; k++) {
		const struct vd_offload_plan *p = &pl->fam[k];
		int f = k ? 6 : 4;
		uint8_t other[VD_OFFLOAD_MAX_EXPANSION];
		size_t nother = 0;
		bool tcp = false;

		if (!p->matches)
			continue;
		for (size_t i = 0; i < p->nproto; i++) {
			if (p->proto[i] == IPPROTO_TCP)
				tcp = true;
			else
				other[nother++] = p->proto[i];
		}
		/* reset_check made sure a reset rule names TCP. */
		if (reset && tcp) {
			static const uint8_t only_tcp = IPPROTO_TCP;

			if (out)
				rule_write(out, p, r, f, &only_tcp, 1, true);
			if (out && nother)
				rule_write(out, p, r, f, other, nother, false);
			rules += nother ? 2 : 1;
		} else {
			if (out)
				rule_write(out, p, r, f, p->proto, p->proto_any ? 0 : p->nproto, false);
			rules++;
		}
	}
	return rules;
}
