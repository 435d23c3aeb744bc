/* test_offload_netlink.c - the offloaded rules' counters read from an
 * nf_tables rule dump: messages built as the kernel sends them (iptables-nft's
 * compat comment match and MARK target, nft's user-data comment and native
 * mark set), and what is left out. */
#include <arpa/inet.h>
#include <endian.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>

#include "firewall_offload.h"

/* How a rule ends. */
enum end {
	END_ACCEPT,      /* immediate verdict */
	END_MARK_TARGET, /* xtables MARK */
	END_META_SET,    /* native mark set, no verdict */
	END_META_ACCEPT, /* native mark set, then accept (nft) */
	END_REJECT_TARGET,
};

struct rule {
	const char *table, *chain, *comment;
	bool udata;       /* the comment in the user data, not a match */
	bool counter;
	uint64_t packets;
	enum end end;
};

static uint8_t buf[16384];
static size_t used;

static void expr(struct nlmsghdr *nlh, const char *name, void (*data)(struct nlmsghdr *, const void *),
		 const void *arg)
{
	struct nlattr *elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM), *d;

	mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, name);
	d = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
	data(nlh, arg);
	mnl_attr_nest_end(nlh, d);
	mnl_attr_nest_end(nlh, elem);
}

static void counter_data(struct nlmsghdr *nlh, const void *arg)
{
	mnl_attr_put_u64(nlh, NFTA_COUNTER_BYTES, htobe64(1000));
	mnl_attr_put_u64(nlh, NFTA_COUNTER_PACKETS, htobe64(*(const uint64_t *)arg));
}

static void comment_data(struct nlmsghdr *nlh, const void *arg)
{
	char info[256] = { 0 };

	strncpy(info, arg, sizeof(info) - 1);
	mnl_attr_put_strz(nlh, NFTA_MATCH_NAME, "comment");
	mnl_attr_put_u32(nlh, NFTA_MATCH_REV, 0);
	mnl_attr_put(nlh, NFTA_MATCH_INFO, sizeof(info), info);
}

static void target_data(struct nlmsghdr *nlh, const void *arg)
{
	uint8_t info[16] = { 0 };

	mnl_attr_put_strz(nlh, NFTA_TARGET_NAME, arg);
	mnl_attr_put_u32(nlh, NFTA_TARGET_REV, htonl(2));
	mnl_attr_put(nlh, NFTA_TARGET_INFO, sizeof(info), info);
}

static void accept_data(struct nlmsghdr *nlh, const void *arg)
{
	struct nlattr *v, *d;

	(void)arg;
	mnl_attr_put_u32(nlh, NFTA_IMMEDIATE_DREG, htonl(NFT_REG_VERDICT));
	d = mnl_attr_nest_start(nlh, NFTA_IMMEDIATE_DATA);
	v = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
	mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl(NF_ACCEPT));
	mnl_attr_nest_end(nlh, v);
	mnl_attr_nest_end(nlh, d);
}

static void meta_set_data(struct nlmsghdr *nlh, const void *arg)
{
	(void)arg;
	mnl_attr_put_u32(nlh, NFTA_META_KEY, htonl(NFT_META_MARK));
	mnl_attr_put_u32(nlh, NFTA_META_SREG, htonl(NFT_REG_1));
}

static void payload_data(struct nlmsghdr *nlh, const void *arg)
{
	(void)arg;
	mnl_attr_put_u32(nlh, NFTA_PAYLOAD_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_PAYLOAD_BASE, htonl(NFT_PAYLOAD_TRANSPORT_HEADER));
}

/* Appends a NFT_MSG_NEWRULE message for r to buf. */
static void add_rule(const struct rule *r)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + used);
	struct nfgenmsg *nfg;
	struct nlattr *exprs;

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = NFPROTO_IPV4;
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, r->table);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, r->chain);
	mnl_attr_put_u64(nlh, NFTA_RULE_HANDLE, htobe64(7));
	exprs = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
	expr(nlh, "payload", payload_data, NULL);
	if (r->comment && !r->udata)
		expr(nlh, "match", comment_data, r->comment);
	if (r->counter)
		expr(nlh, "counter", counter_data, &r->packets);
	switch (r->end) {
	case END_ACCEPT: expr(nlh, "immediate", accept_data, NULL); break;
	case END_MARK_TARGET: expr(nlh, "target", target_data, "MARK"); break;
	case END_REJECT_TARGET: expr(nlh, "target", target_data, "REJECT"); break;
	case END_META_SET: expr(nlh, "meta", meta_set_data, NULL); break;
	case END_META_ACCEPT:
		expr(nlh, "meta", meta_set_data, NULL);
		expr(nlh, "immediate", accept_data, NULL);
		break;
	}
	mnl_attr_nest_end(nlh, exprs);
	if (r->comment && r->udata) {
		/* Type 0 (the comment), length with the NUL, the text. */
		uint8_t ud[258];
		size_t len = strlen(r->comment) + 1;

		ud[0] = 0;
		ud[1] = (uint8_t)len;
		memcpy(ud + 2, r->comment, len);
		mnl_attr_put(nlh, NFTA_RULE_USERDATA, 2 + len, ud);
	}
	used += nlh->nlmsg_len;
	assert_true(used < sizeof(buf) - 1024);
}

static void add_done(void)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + used);

	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	mnl_nlmsg_put_extra_header(nlh, sizeof(int));
	used += nlh->nlmsg_len;
}

/* iptables-nft: the comment a compat match, a MARK rule before its verdict
 * rule (left out), other chains and tables (left out). */
static void test_iptables(void **state)
{
	uint64_t hits[3] = { 0 };
	static const struct rule rules[] = {
		{ "filter", "VERDICTD-INPUT", "verdictd rule 1", false, true, 30, END_ACCEPT },
		{ "filter", "VERDICTD-INPUT", "verdictd rule 2", false, true, 7, END_MARK_TARGET },
		{ "filter", "VERDICTD-INPUT", "verdictd rule 2", false, true, 7, END_ACCEPT },
		{ "filter", "VERDICTD-OUTPUT", "verdictd rule 3", false, true, 5, END_REJECT_TARGET },
		{ "filter", "VERDICTD-OUTPUT", "verdictd rule 1", false, true, 20, END_ACCEPT },
		/* a native mark set with no verdict: the verdict rule counts */
		{ "filter", "VERDICTD-OUTPUT", "verdictd rule 3", false, true, 5, END_META_SET },
		/* not verdictd's: another chain, another table, the user's own
		 * rule that happens to carry the tag */
		{ "filter", "INPUT", "verdictd rule 1", false, true, 100, END_ACCEPT },
		{ "mangle", "VERDICTD-INPUT", "verdictd rule 1", false, true, 100, END_ACCEPT },
		/* no counter; no comment; a number out of range or not one */
		{ "filter", "VERDICTD-INPUT", "verdictd rule 1", false, false, 0, END_ACCEPT },
		{ "filter", "VERDICTD-INPUT", NULL, false, true, 100, END_ACCEPT },
		{ "filter", "VERDICTD-INPUT", "verdictd rule 4", false, true, 100, END_ACCEPT },
		{ "filter", "VERDICTD-INPUT", "verdictd rule 0", false, true, 100, END_ACCEPT },
		{ "filter", "VERDICTD-INPUT", "verdictd rule 2x", false, true, 100, END_ACCEPT },
		{ "filter", "VERDICTD-INPUT", "verdictd rule ", false, true, 100, END_ACCEPT },
		{ "filter", "VERDICTD-INPUT", "my rule 1", false, true, 100, END_ACCEPT },
	};

	(void)state;
	used = 0;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		add_rule(&rules[i]);
	add_done();
	assert_int_equal(vd_offload_counters_nl_parse(buf, used, false, hits, 3), 4);
	assert_int_equal(hits[0], 50);
	assert_int_equal(hits[1], 7);
	assert_int_equal(hits[2], 5);
	/* Added to what is there; nothing past n. */
	assert_int_equal(vd_offload_counters_nl_parse(buf, used, false, hits, 1), 2);
	assert_int_equal(hits[0], 100);
	assert_int_equal(hits[1], 7);
	/* The nft flavour reads table verdictd only. */
	memset(hits, 0, sizeof(hits));
	assert_int_equal(vd_offload_counters_nl_parse(buf, used, true, hits, 3), 0);
}

/* nft: the comment in the user data, the mark set in the verdict's rule,
 * every chain of table verdictd. */
static void test_nft(void **state)
{
	uint64_t hits[2] = { 0 };
	static const struct rule rules[] = {
		{ "verdictd", "input", "verdictd rule 1", true, true, 11, END_ACCEPT },
		{ "verdictd", "output", "verdictd rule 1", true, true, 4, END_ACCEPT },
		{ "verdictd", "input", "verdictd rule 2", true, true, 9, END_META_ACCEPT },
		{ "filter", "VERDICTD-INPUT", "verdictd rule 2", true, true, 100, END_ACCEPT },
		{ "verdictd", "input", "other", true, true, 100, END_ACCEPT },
	};

	(void)state;
	used = 0;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		add_rule(&rules[i]);
	add_done();
	assert_int_equal(vd_offload_counters_nl_parse(buf, used, true, hits, 2), 3);
	assert_int_equal(hits[0], 15);
	assert_int_equal(hits[1], 9);
	/* The iptables flavour finds a user-data comment as well. */
	memset(hits, 0, sizeof(hits));
	assert_int_equal(vd_offload_counters_nl_parse(buf, used, false, hits, 2), 1);
	assert_int_equal(hits[1], 100);
}

/* Cut or bogus messages count nothing and do not read past the buffer. */
static void test_truncated(void **state)
{
	uint64_t hits[1] = { 0 };
	static const struct rule r = { "filter", "VERDICTD-INPUT", "verdictd rule 1", false, true, 3,
				       END_ACCEPT };

	(void)state;
	used = 0;
	add_rule(&r);
	for (size_t cut = 0; cut < used; cut++)
		assert_int_equal(vd_offload_counters_nl_parse(buf, cut, false, hits, 1), 0);
	assert_int_equal(vd_offload_counters_nl_parse(buf, used, false, hits, 1), 1);
	assert_int_equal(hits[0], 3);
	/* A length libmnl's int cast would take for negative (and pass): not
	 * walked (found by fuzz_offload_dump, which looped on it). */
	((struct nlmsghdr *)buf)->nlmsg_len = 0x80000000u;
	assert_int_equal(vd_offload_counters_nl_parse(buf, used, false, hits, 1), 0);
	((struct nlmsghdr *)buf)->nlmsg_len = 0xfffffff0u;
	assert_int_equal(vd_offload_counters_nl_parse(buf, used, false, hits, 1), 0);
	assert_int_equal(hits[0], 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iptables),
		cmocka_unit_test(test_nft),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
