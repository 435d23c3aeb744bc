/* stats_report.c - format the engine's and the kernel's counters, and the rules' hits,
 * as one line each, written straight to the FILE (no length limit). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <verdict/engine.h>
#include <verdict/rules.h>

#include "stats_report.h"

/* Written straight to out, whatever the number of queues: a line built in a
 * fixed buffer lost the queues past its end. The lock keeps the line whole
 * against other threads writing to the same FILE. */
void vd_stats_report(FILE *out, const struct vd_engine *e, const char *label)
{
	flockfile(out);
	fprintf(out, "stats%s%s:", label ? " " : "", label ? label : "");
	for (size_t i = 0; i < vd_engine_nqueues(e); i++) {
		struct vd_queue_stats s;
		struct vd_kernel_queue_stats k = { 0 };
		uint16_t q = vd_engine_stats(e, i, &s);

		/* Absent once unbound: the kernel's counters read as zero then. */
		vd_queue_kernel_stats(q, &k);
		fprintf(out,
			"%s q%u packets=%lu accepted=%lu dropped=%lu queued=%lu repeated=%lu "
			"marked=%lu parse_errors=%lu truncated=%lu batches=%lu verdict_msgs=%lu "
			"kernel_queue_dropped=%lu kernel_user_dropped=%lu enobufs=%lu undecodable=%lu "
			"rewritten=%lu rewrite_refused=%lu held=%lu held_max=%lu released=%lu "
			"pending=%lu hold_overflow=%lu release_error_p50_us=%.1f "
			"release_error_p99_us=%.1f release_error_max_us=%.1f rejected=%lu "
			"bypassed=%lu stripped=%lu errors=%lu",
			i ? ";" : "", q, s.packets, s.accepted, s.dropped, s.queued, s.repeated,
			s.marked, s.parse_errors, s.truncated, s.batches, s.verdict_msgs,
			k.queue_dropped, k.user_dropped, s.enobufs, s.undecodable, s.rewritten,
			s.rewrite_refused, s.held, s.held_max, s.released, s.pending, s.hold_overflow,
			s.release_error_p50_ns / 1e3, s.release_error_p99_ns / 1e3,
			s.release_error_max_ns / 1e3, s.rejected, s.bypassed, s.stripped,
			s.recv_errors + s.send_errors + s.kernel_errors + s.invalid_verdicts);
	}
	fputc('\n', out);
	fflush(out);
	funlockfile(out);
}

/* "rules: (default)=N name=M ...", per rule: hits (and the counters that
 * are not zero: hook and rewrite errors, delayed, loss_dropped,
 * limit_dropped, in parentheses, comma-separated, so that a line splits on
 * spaces into one word per rule). */
void vd_rules_report(FILE *out, struct vd_rules *rules, const char *label)
{
	size_t n = vd_rules_stats(rules, NULL, 0);
	struct vd_rule_stats *st = calloc(n ? n : 1, sizeof(*st));

	flockfile(out); /* one line, however many rules: written straight to out */
	fprintf(out, "rules%s%s: generation=%u", label ? " " : "", label ? label : "",
		vd_rules_generation(rules));
	if (st) { /* on no memory, the generation alone */
		size_t now = vd_rules_stats(rules, st, n); /* a reload may have run between */

		n = now < n ? now : n;
	}
	for (size_t i = 0; st && i < n; i++) {
		const struct { const char *name; uint64_t n; } extra[] = {
			{ "errors", st[i].errors }, { "rewrite_errors", st[i].rewrite_errors },
			{ "delayed", st[i].delayed }, { "loss_dropped", st[i].loss_dropped },
			{ "limit_dropped", st[i].limit_dropped },
		};
		char sep = '(';

		fprintf(out, " %s=%lu", st[i].name, (unsigned long)st[i].hits);
		/* Only the counters that are not zero, in parentheses. */
		for (size_t k = 0; k < sizeof(extra) / sizeof(extra[0]); k++) {
			if (!extra[k].n)
				continue;
			fprintf(out, "%c%s=%lu", sep, extra[k].name, (unsigned long)extra[k].n);
			sep = ',';
		}
		if (sep == ',')
			fputc(')', out);
	}
	fputc('\n', out);
	fflush(out);
	funlockfile(out);
	free(st);
}
