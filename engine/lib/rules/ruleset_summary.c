/*
 * ruleset_summary.c - the compiled table as text, for --check
 * (vd_ruleset_summary): one line per rule with its matches and its action.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "reject_with.h"
#include "rule_rewrite.h"
#include "rule_shape.h"
#include "ruleset.h"

static void print_address(FILE *out, vd_key lo, vd_key hi)
{
	vd_key span = lo ^ hi;
	unsigned host = 0;
	uint8_t b[16];
	char text[INET6_ADDRSTRLEN];

	while (host < 128 && (span >> host) & 1)
		host++;
	for (int i = 15; i >= 0; i--, lo >>= 8)
		b[i] = (uint8_t)lo;
	if (memcmp(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0 && host <= 32) {
		inet_ntop(AF_INET, b + 12, text, sizeof(text));
		fprintf(out, "%s/%u", text, 32 - host);
	} else {
		inet_ntop(AF_INET6, b, text, sizeof(text));
		fprintf(out, "%s/%u", text, 128 - host);
	}
}

static void print_dim(FILE *out, const struct vd_rule_dim_spec *d, enum vd_rule_dim dim)
{
	static const char *const names[VD_DIM_COUNT] = { "proto", "src", "dst", "sport", "dport",
							 "iif", "oif", "match_queue" };

	if (!d->constrained)
		return;
	fprintf(out, " %s=", names[dim]);
	for (size_t k = 0; k < d->nranges; k++) {
		const struct vd_key_range *r = &d->ranges[k];

		fputs(k ? "," : "", out);
		if (dim == VD_DIM_PROTO && r->lo == r->hi && vd_proto_name((uint8_t)r->lo))
			fputs(vd_proto_name((uint8_t)r->lo), out);
		else if (dim == VD_DIM_SRC || dim == VD_DIM_DST)
			print_address(out, r->lo, r->hi);
		else if (r->lo == r->hi)
			fprintf(out, "%llu", (unsigned long long)r->lo);
		else
			fprintf(out, "%llu-%llu", (unsigned long long)r->lo, (unsigned long long)r->hi);
	}
}

static void print_checks(FILE *out, const struct vd_rule *r)
{
	static const char *const ct[] = { "established", "related", "new", "established-reply",
					  "related-reply", "5", "6", "untracked" };
	const char *sep;

	if (r->checks & VD_CHECK_MARK)
		fprintf(out, " match_mark=0x%x/0x%x", r->mark_value, r->mark_mask);
	if (r->checks & VD_CHECK_UID)
		fprintf(out, " uid=%u-%u", r->uid_lo, r->uid_hi);
	if (r->checks & VD_CHECK_GID)
		fprintf(out, " gid=%u-%u", r->gid_lo, r->gid_hi);
	if (r->checks & VD_CHECK_LEN)
		fprintf(out, " len=%u-%u", r->len_lo, r->len_hi);
	if (r->checks & VD_CHECK_TCP_FLAGS) {
		fputs(" tcp_flags=", out);
		sep = "";
		for (int b = 0; b < 8; b++)
			if (r->tcp_mask & (1u << b)) {
				fprintf(out, "%s%s%s", sep, (r->tcp_value & (1u << b)) ? "" : "!",
					vd_tcp_flag_name((unsigned)b));
				sep = ",";
			}
	}
	if (r->checks & VD_CHECK_CT_STATE) {
		fputs(" ct_state=", out);
		sep = "";
		for (int b = 0; b < 8; b++)
			if (r->ct_states & (1u << b)) {
				fprintf(out, "%s%s", sep, ct[b]);
				sep = ",";
			}
		if (r->ct_states & VD_CT_INVALID_BIT)
			fprintf(out, "%sinvalid", sep);
	}
	if (r->checks & VD_CHECK_ICMP_TYPE)
		fprintf(out, " icmp_type=%u", r->icmp_type);
	if (r->checks & VD_CHECK_ICMP_CODE)
		fprintf(out, " icmp_code=%u", r->icmp_code);
}

static void print_action(FILE *out, const struct vd_rule *r)
{
	switch (r->action) {
	case VD_ACTION_LUA:
		fprintf(out, " -> lua hook (on error %s)", vd_verdict_kind_name(r->on_error.kind));
		return;
	case VD_ACTION_PLUGIN:
		fprintf(out, " -> plugin %s:%s%s%s", r->plugin_path, r->plugin_symbol,
			r->plugin_args ? " args " : "", r->plugin_args ? r->plugin_args : "");
		return;
	default:
		fprintf(out, " -> %s", vd_verdict_kind_name(r->verdict.kind));
		if (r->verdict.kind == VD_VERDICT_QUEUE)
			fprintf(out, " %u%s", r->verdict.queue,
				(r->verdict.flags & VD_VERDICT_F_BYPASS) ? " bypass" : "");
		if (r->verdict.kind == VD_VERDICT_REJECT)
			fprintf(out, " with %s", vd_reject_with_name(r->verdict.queue));
		if (r->verdict.flags & VD_VERDICT_F_CONNECTION)
			fputs(" bypass (the rest of the connection in the kernel)", out);
		if (r->verdict.flags & VD_VERDICT_F_MARK)
			fprintf(out, " mark 0x%x/0x%x", r->verdict.mark, r->verdict.mark_mask);
	}
}

/* One line per rule or logs entry. */
static void summary_entries(const struct vd_ruleset *rs, FILE *out)
{
	for (size_t i = 0; i < rs->file.nrules; i++) {
		const struct vd_rule *r = &rs->file.rules[i];

		fprintf(out, "%4u %-16s", r->index, r->name);
		for (int d = 0; d < VD_DIM_COUNT; d++)
			print_dim(out, &r->dim[d], d);
		print_checks(out, r);
		print_action(out, r);
		if (r->set.fields) {
			fputs(" set", out);
			vd_rule_rewrite_print(&r->set, out);
			if (r->action == VD_ACTION_VERDICT && r->on_error_set)
				fprintf(out, " (on error %s)", vd_verdict_kind_name(r->on_error.kind));
		}
		if (r->log)
			fputs(" log", out);
		vd_rule_shape_print(&r->shape, out);
		fputc('\n', out);
		vd_rule_rewrite_warn(r, out);
	}
}

void vd_ruleset_summary(const struct vd_ruleset *rs, FILE *out)
{
	const struct vd_rule_file *f = &rs->file;
	size_t nplugin = 0, intervals = 0, classes = 0;

	for (size_t i = 0; i < f->nrules; i++)
		nplugin += f->rules[i].action == VD_ACTION_PLUGIN;
	for (int d = 0; d < VD_DIM_COUNT; d++) {
		intervals += rs->dims[d].used ? rs->dims[d].nintervals : 0;
		classes += rs->dims[d].used ? rs->dims[d].nclasses : 0;
	}
	fprintf(out, "%s: %zu rules (%zu lua, %zu plugin), default %s%s; index: %zu intervals, "
		     "%zu rule lists\n",
		rs->path, f->nrules, f->nlua, nplugin, vd_verdict_kind_name(f->default_verdict.kind),
		f->log_default ? " log" : "", intervals, classes);
	if (f->seeded)
		fprintf(out, "seed %llu: shaping's random choices repeat\n", (unsigned long long)f->seed);
	if (f->first_packets)
		fprintf(out, "first_packets %u: only the first %u packets of each connection are "
			"queued (needs the generated kernel rules: --firewall or --print-firewall)\n",
			f->first_packets, f->first_packets);
	summary_entries(rs, out);
	if (f->kernel_verdicts)
		fputs("warning: reject and bypass need verdictd's kernel rules (--firewall, or the "
		      "--print-firewall output loaded and --bypass-mark given): without them a reject "
		      "is sent as drop and bypass decides only the one packet\n", out);
	if (rs->logs && rs->logs->file.nrules) {
		fprintf(out, "logs: %zu entries (%zu lua); a log packet is written unless the first "
			"matching entry drops it\n", rs->logs->file.nrules, rs->logs->file.nlua);
		summary_entries(rs->logs, out);
	}
}
