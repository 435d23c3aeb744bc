/*
 * rule.h - a rule as the loader reads it and the rule table runs it.
 *
 * The loader (rule_load.c) fills an array of struct vd_rule from a rules
 * file; the rule table (ruleset.c) indexes the dimensions, ruleset_eval.c
 * evaluates.
 * Strings and ranges are owned by the rule (vd_rule_free).
 */
#ifndef VD_RULE_H
#define VD_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <verdict/verdict.h>

#include "rule_index.h"
#include "rule_shape.h"

/* Indexed dimensions. Addresses share one 128-bit key space: IPv4 is mapped
 * into ::ffff:0:0/96, so a rule's IPv4 and IPv6 prefixes sit in one list and
 * an IPv4-only rule can never match an IPv6 packet. */
enum vd_rule_dim {
	VD_DIM_PROTO,
	VD_DIM_SRC,
	VD_DIM_DST,
	VD_DIM_SPORT,
	VD_DIM_DPORT,
	VD_DIM_IIF,
	VD_DIM_OIF,
	VD_DIM_QUEUE, /* the queue (for `logs`: the NFLOG group) it arrived on */
	VD_DIM_COUNT
};

/* Checks run on candidates after the index (vd_rule.checks). */
enum vd_rule_check {
	VD_CHECK_MARK = 1u << 0,
	VD_CHECK_UID = 1u << 1,
	VD_CHECK_GID = 1u << 2,
	VD_CHECK_TCP_FLAGS = 1u << 3,
	VD_CHECK_CT_STATE = 1u << 4,
	VD_CHECK_LEN = 1u << 5,
	VD_CHECK_ICMP_TYPE = 1u << 6,
	VD_CHECK_ICMP_CODE = 1u << 7,
};

/* ct_states bit for packets that came without conntrack information. */
#define VD_CT_INVALID_BIT (1u << 31)

enum vd_rule_action {
	VD_ACTION_VERDICT,
	VD_ACTION_LUA,
	VD_ACTION_PLUGIN,
};

/* A rule's `set = { ... }` (rule_rewrite.c): the packet edits made when its
 * verdict (or its hook's) lets the packet go on. fields is what was given
 * (enum vd_edit_field bits, verdict/edit.h), 0 when the rule has no set. */
struct vd_rule_rewrite {
	uint32_t fields;
	uint8_t ttl, dscp, ecn;
	uint8_t tcp_set, tcp_clear;     /* enum vd_tcp_flag bits */
	bool df;
	uint8_t src_version, dst_version; /* 4 or 6: the family of src, dst */
	uint16_t sport, dport, mss;     /* host order */
	uint8_t src[16], dst[16];       /* network order, 4 bytes for IPv4 */
};

struct vd_rule_dim_spec {
	bool constrained;
	struct vd_key_range *ranges;
	size_t nranges;
};

/* The longest rule name, in bytes: names are stored in 64-byte fields
 * (struct vd_rule_stats). */
#define VD_RULE_NAME_MAX 63

struct vd_rule {
	char *name;
	unsigned index;                 /* 1-based position in the file */
	struct vd_rule_dim_spec dim[VD_DIM_COUNT];
	uint32_t checks;                /* enum vd_rule_check */
	uint32_t mark_value, mark_mask; /* VD_CHECK_MARK */
	uint32_t uid_lo, uid_hi, gid_lo, gid_hi, len_lo, len_hi;
	uint8_t tcp_mask, tcp_value;    /* (flags & mask) == value */
	uint8_t icmp_type, icmp_code;
	uint32_t ct_states;             /* bit 1 << enum vd_ct_state, VD_CT_INVALID_BIT */
	enum vd_rule_action action;
	struct vd_verdict verdict;      /* VD_ACTION_VERDICT */
	struct vd_rule_rewrite set;     /* beside verdict: act() reads both */
	struct vd_rule_shape shape;     /* delay, loss, rate...: after set (rule_shape.h) */
	struct vd_verdict on_error;     /* hooks, set: what an error, a bad return or a
					 * refused rewrite gives */
	bool on_error_set;
	bool log;                       /* log = true: written to --log-json/--log-pcap */
	char *plugin_path, *plugin_symbol, *plugin_args;
};

/* What a rules file says, before compilation. */
struct vd_rule_file {
	struct vd_verdict default_verdict;
	struct vd_rule *rules;
	size_t nrules;
	size_t nlua;                    /* rules with a Lua hook */
	bool log_default;               /* log_default = true: log what the default decides */
	bool seeded;                    /* `seed` given: shaping repeats from it */
	uint64_t seed;
	bool delays;                    /* a rule has delay or rate */
	bool kernel_verdicts;           /* a rule rejects or bypasses (rule_kernel.h) */
	unsigned first_packets;         /* `first_packets`: queue only the first N
					 * packets of a connection; 0: all */
};

/* The largest first_packets: connbytes counts in 64 bits, but a policy that
 * needs more than a million packets to decide is not deciding early. */
#define VD_RULE_FIRST_PACKETS_MAX 1000000u

void vd_rule_file_free(struct vd_rule_file *f);

#endif
