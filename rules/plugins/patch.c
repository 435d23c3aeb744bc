/*
 * patch.c - an example verdictd plugin that rewrites packets: it replaces
 * the first occurrence of a byte string in the L4 payload by another, and
 * accepts every packet, patched or not.
 *
 * Rule:
 *     { name = "patch", proto = "udp", dport = 5000,
 *       plugin = "patch.so", symbol = "patch_eval",
 *       args = "find=PING,replace=PONG" }
 *
 * args, comma-separated key=value pairs:
 *   find=S      the bytes to look for (1-255 bytes), required
 *   replace=S   what they become (0-255 bytes), required
 * S is text up to the next comma, or "hex:" and an even number of hex
 * digits ("find=hex:00ff,replace=hex:" removes the two bytes 00 ff).
 * A bad arg makes init print one line naming it to stderr and return
 * -EINVAL, so the rules file is refused.
 *
 * Lengths: a replacement of another length grows or shrinks a UDP, ICMP or
 * ICMPv6 payload, and verdictd fixes every length and checksum. On TCP it is
 * refused (the kernel would have to adjust the sequence numbers, see
 * verdict/edit.h): the plugin then returns vd_hook_error(), so the rule's
 * on_error decides and the rule counts a rewrite error. Keep find and
 * replace the same length for TCP.
 *
 * Calls vd_packet_edit_replace_payload, which verdictd exports to plugins
 * (verdict/hook.h); state is per worker, read-only after init.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <verdict/hook.h>

VD_HOOK_PLUGIN_DECLARE();

VD_HOOK_EXPORT int patch_init(const struct vd_hook_context *ctx, void **state);
VD_HOOK_EVAL(patch_eval);
VD_HOOK_EXPORT void patch_fini(void *state);

#define PATCH_MAX 255

struct patch {
	uint8_t find[PATCH_MAX], replace[PATCH_MAX];
	size_t find_len, replace_len;
};

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The n bytes of value at s (text, or "hex:..."), into out; their count,
 * or -1 when they do not fit or a hex digit is bad. */
static int bytes_read(const char *s, size_t n, uint8_t *out)
{
	size_t len = 0;

	if (n >= 4 && memcmp(s, "hex:", 4) == 0) {
		if ((n - 4) % 2 || (n - 4) / 2 > PATCH_MAX)
			return -1;
		for (size_t i = 4; i < n; i += 2) {
			int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);

			if (hi < 0 || lo < 0)
				return -1;
			out[len++] = (uint8_t)(hi << 4 | lo);
		}
		return (int)len;
	}
	if (n > PATCH_MAX)
		return -1;
	memcpy(out, s, n);
	return (int)n;
}

static int args_parse(struct patch *p, const char *args, const char *rule)
{
	bool find = false, replace = false;

	while (args && *args) {
		size_t n = strcspn(args, ","), key = strcspn(args, "=");
		int got = -1;

		if (key < n && key == 4 && memcmp(args, "find", 4) == 0) {
			got = bytes_read(args + 5, n - 5, p->find);
			p->find_len = got > 0 ? (size_t)got : 0;
			find = got > 0;
		} else if (key < n && key == 7 && memcmp(args, "replace", 7) == 0) {
			got = bytes_read(args + 8, n - 8, p->replace);
			p->replace_len = got > 0 ? (size_t)got : 0;
			replace = got >= 0;
		}
		if (got < 0 || (key == 4 && got == 0)) {
			fprintf(stderr, "patch: rule %s: bad arg \"%.*s\" (find=S, replace=S: text or "
				"hex:HH.., find 1-%d bytes, replace 0-%d)\n",
				rule, (int)n, args, PATCH_MAX, PATCH_MAX);
			return -EINVAL;
		}
		args += n + (args[n] == ',');
	}
	if (!find || !replace) {
		fprintf(stderr, "patch: rule %s: args need find=S and replace=S\n", rule);
		return -EINVAL;
	}
	return 0;
}

int patch_init(const struct vd_hook_context *ctx, void **state)
{
	struct patch *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return -ENOMEM;
	err = args_parse(p, ctx->args, ctx->rule_name);
	if (err) {
		free(p);
		return err;
	}
	*state = p;
	return 0;
}

/* Hot path: one memmem over the payload; no allocation, no lock. */
struct vd_verdict patch_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
			     void *state)
{
	const struct patch *p = state;
	const uint8_t *at;
	uint32_t start;

	if (!edit || !pkt->payload)
		return vd_verdict_accept();
	at = memmem(pkt->payload, pkt->payload_len, p->find, p->find_len);
	if (!at)
		return vd_verdict_accept();
	start = (uint32_t)(at - pkt->payload);
	if (vd_packet_edit_replace_payload(edit, start, start + (uint32_t)p->find_len, p->replace,
					   (uint32_t)p->replace_len) < 0)
		return vd_hook_error(); /* edit->reason says why */
	return vd_verdict_accept();
}

void patch_fini(void *state)
{
	free(state);
}
