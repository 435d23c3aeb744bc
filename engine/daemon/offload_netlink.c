/* offload_netlink.c - the kernel's hit counters of offloaded rules, read with
 * one nf_tables rule dump per family (firewall_offload.h): no tool spawned
 * per stats snapshot. */
#include <arpa/inet.h> /* before the kernel's headers: its in.h defers to it */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>

#include <verdict/queue.h> /* VD_ERRBUF_SIZE */

#include "firewall_nft.h"
#include "firewall_offload.h"
#include "internal.h"

/* A dump that takes longer than this is given up (the kernel answers a
 * 1,000-rule table in a few milliseconds). */
#define DUMP_TIMEOUT_MS 2000
/* Tries of a dump the kernel marks interrupted (the rule set changed
 * during it: a reload). */
#define DUMP_TRIES 3
/* One receive: more than a dump message the kernel builds (up to 32 KB). */
#define DUMP_BUF_SIZE 65536
/* The socket's receive buffer: the kernel fills it one dump skb at a time,
 * as each receive makes room. */
#define DUMP_RCVBUF (256u << 10)

static const char tag[] = "verdictd rule ";

/* What one rule says that the count needs. */
struct rule_seen {
	const char *table, *chain, *comment;
	uint64_t packets;
	bool counter;
	bool mark_target; /* an xtables MARK target */
	bool meta_set;    /* a native mark (or other meta key) set */
	bool verdict;     /* ends with a verdict or a target other than MARK */
};

struct dump_state {
	const char *table;
	const char *chain_prefix; /* NULL: every chain of the table */
	uint64_t *hits;
	size_t n, counted;
};

/* The attribute's payload as a string, or NULL when it is not one that ends
 * within the attribute. */
static const char *attr_str(const struct nlattr *a)
{
	const char *s = mnl_attr_get_payload(a);
	uint16_t len = mnl_attr_get_payload_len(a);

	return len && memchr(s, '\0', len) ? s : NULL;
}

/* Fills tb[0..max] with the nested attributes of a (later ones win). */
static void nested(const struct nlattr *a, const struct nlattr **tb, unsigned max)
{
	const struct nlattr *it;

	memset(tb, 0, (max + 1) * sizeof(*tb));
	mnl_attr_for_each_nested(it, a) {
		if (mnl_attr_get_type(it) <= max)
			tb[mnl_attr_get_type(it)] = it;
	}
}

/* One expression of a rule. */
static void expr_seen(const struct nlattr *elem, struct rule_seen *r)
{
	const struct nlattr *e[NFTA_EXPR_MAX + 1], *d[16];
	const char *name;

	nested(elem, e, NFTA_EXPR_MAX);
	if (!e[NFTA_EXPR_NAME] || !(name = attr_str(e[NFTA_EXPR_NAME])))
		return;
	if (e[NFTA_EXPR_DATA])
		nested(e[NFTA_EXPR_DATA], d, 15);
	else
		memset(d, 0, sizeof(d));
	if (strcmp(name, "counter") == 0 && d[NFTA_COUNTER_PACKETS] &&
	    mnl_attr_get_payload_len(d[NFTA_COUNTER_PACKETS]) == sizeof(uint64_t)) {
		r->counter = true;
		r->packets = be64toh(mnl_attr_get_u64(d[NFTA_COUNTER_PACKETS]));
	} else if (strcmp(name, "match") == 0 && d[NFTA_MATCH_NAME] && d[NFTA_MATCH_INFO]) {
		/* -m comment: its info is the comment, NUL-padded. */
		const char *m = attr_str(d[NFTA_MATCH_NAME]);

		if (m && strcmp(m, "comment") == 0)
			r->comment = attr_str(d[NFTA_MATCH_INFO]);
	} else if (strcmp(name, "target") == 0) {
		const char *t = d[NFTA_TARGET_NAME] ? attr_str(d[NFTA_TARGET_NAME]) : NULL;

		if (t && strcmp(t, "MARK") == 0)
			r->mark_target = true;
		else
			r->verdict = true;
	} else if (strcmp(name, "meta") == 0 && d[NFTA_META_SREG]) {
		r->meta_set = true;
	} else if (strcmp(name, "reject") == 0 ||
		   (strcmp(name, "immediate") == 0 && d[NFTA_IMMEDIATE_DREG] &&
		    mnl_attr_get_payload_len(d[NFTA_IMMEDIATE_DREG]) == sizeof(uint32_t) &&
		    ntohl(mnl_attr_get_u32(d[NFTA_IMMEDIATE_DREG])) == NFT_REG_VERDICT)) {
		r->verdict = true; /* an immediate verdict (accept, drop, jump), or reject */
	}
}

/* The rule's comment from its user data (nft's, and iptables-nft's where it
 * stores comments there): type-length-value records, type 0 the comment. */
static const char *udata_comment(const struct nlattr *a)
{
	const uint8_t *p = mnl_attr_get_payload(a);
	size_t len = mnl_attr_get_payload_len(a);

	for (size_t off = 0; off + 2 <= len && off + 2 + p[off + 1] <= len; off += 2 + p[off + 1])
		if (p[off] == 0 && p[off + 1] && memchr(p + off + 2, '\0', p[off + 1]))
			return (const char *)p + off + 2;
	return NULL;
}

/* The rule number N of a comment "verdictd rule N", 0 when it is not one. */
static unsigned long comment_rule(const char *c)
{
	char *end;
	unsigned long n;

	if (!c || strncmp(c, tag, sizeof(tag) - 1) != 0 || c[sizeof(tag) - 1] < '0' ||
	    c[sizeof(tag) - 1] > '9')
		return 0;
	errno = 0;
	n = strtoul(c + sizeof(tag) - 1, &end, 10);
	return errno || *end ? 0 : n;
}

/* Counts one message of the dump into st when it is one of verdictd's
 * counted rules. */
static void rule_cb(const struct nlmsghdr *nlh, struct dump_state *st)
{
	struct rule_seen r = { 0 };
	const struct nlattr *a, *it;
	unsigned long num;

	if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWRULE ||
	    nlh->nlmsg_type >> 8 != NFNL_SUBSYS_NFTABLES)
		return;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		switch (mnl_attr_get_type(a)) {
		case NFTA_RULE_TABLE: r.table = attr_str(a); break;
		case NFTA_RULE_CHAIN: r.chain = attr_str(a); break;
		case NFTA_RULE_USERDATA:
			if (!r.comment)
				r.comment = udata_comment(a);
			break;
		case NFTA_RULE_EXPRESSIONS:
			mnl_attr_for_each_nested(it, a) {
				expr_seen(it, &r);
			}
			break;
		}
	}
	if (!r.table || strcmp(r.table, st->table) != 0 || !r.chain ||
	    (st->chain_prefix && strncmp(r.chain, st->chain_prefix, strlen(st->chain_prefix)) != 0))
		return;
	/* A rule that only sets the mark sees the packets of the verdict rule
	 * after it: one of the two counts. */
	if (!r.counter || r.mark_target || (r.meta_set && !r.verdict))
		return;
	num = comment_rule(r.comment);
	if (num >= 1 && num <= st->n) {
		st->hits[num - 1] += r.packets;
		st->counted++;
	}
}

/* Takes the messages of one received buffer: 1 at the dump's end, 0 for more
 * to come, -1 with errno on the kernel's error (ENOENT: no such table, no
 * error here). seq 0 takes any sequence number. */
static int messages(const void *buf, size_t len, uint32_t seq, struct dump_state *st,
		    bool *interrupted)
{
	size_t left = len;

	/* Not mnl_nlmsg_ok/next: a length of 2^31 or more would pass them and
	 * step out of the buffer. */
	for (const struct nlmsghdr *nlh = buf; vd_nl_msg_ok(nlh, left);
	     nlh = vd_nl_msg_next(nlh, &left)) {
		if (seq && nlh->nlmsg_seq != seq)
			continue; /* what an earlier, abandoned dump left */
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			*interrupted = true;
		if (nlh->nlmsg_type == NLMSG_DONE)
			return 1;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				return errno = EBADMSG, -1;
			if (e->error == 0 || e->error == -ENOENT)
				return 1;
			/* The kernel sends -errno; anything else is no errno. */
			return errno = e->error < 0 && e->error > -4096 ? -e->error : EPROTO, -1;
		}
		rule_cb(nlh, st);
	}
	return 0;
}

/* What a flavour's dump counts, into hits[0, n). */
static struct dump_state dump_state_for(bool nft, uint64_t *hits, size_t n)
{
	return (struct dump_state){ .table = nft ? VD_FIREWALL_NFT_TABLE : "filter",
				    .chain_prefix = nft ? NULL : "VERDICTD-", .hits = hits, .n = n };
}

size_t vd_offload_counters_nl_parse(const void *buf, size_t len, bool nft, uint64_t *hits,
				    size_t n)
{
	struct dump_state st = dump_state_for(nft, hits, n);
	bool interrupted = false;

	messages(buf, len, 0, &st, &interrupted);
	return st.counted;
}

static long long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000LL + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* One dump of family's rules of st->table into st: 0 (*interrupted when the
 * rule set changed during it), or -1 with errno. */
static int dump_once(struct mnl_socket *nl, uint8_t family, struct dump_state *st, void *buf,
		     size_t size, bool *interrupted)
{
	static _Atomic uint32_t next_seq = 1;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	uint32_t seq = next_seq++;
	struct timespec t0;

	if (seq == 0)
		seq = next_seq++;
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	/* The kernel dumps only this table's rules. */
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, st->table);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	*interrupted = false;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ssize_t got = mnl_socket_recvfrom(nl, buf, size);
		int ret;

		if (got < 0) {
			if ((errno == EAGAIN || errno == EINTR) && ms_since(&t0) < DUMP_TIMEOUT_MS)
				continue;
			return -1;
		}
		if ((ret = messages(buf, (size_t)got, seq, st, interrupted)) != 0)
			return ret < 0 ? -1 : 0;
	}
}

int vd_offload_counters_netlink(bool nft, uint64_t *hits, size_t n, char *err, size_t errlen)
{
	static const uint8_t ipt_families[] = { NFPROTO_IPV4, NFPROTO_IPV6 };
	static const uint8_t nft_families[] = { NFPROTO_INET };
	const uint8_t *families = nft ? nft_families : ipt_families;
	size_t nfam = nft ? 1 : 2, size = DUMP_BUF_SIZE;
	char why[VD_ERRBUF_SIZE];
	struct mnl_socket *nl;
	uint64_t *got;
	void *buf;
	int ret = 0;

	got = calloc(n ? n : 1, sizeof(*got));
	buf = malloc(size);
	/* The library's socket: bound, close-on-exec, a 100 ms receive timeout. */
	nl = vd_nl_socket_open("nf_tables rule dump", DUMP_RCVBUF, 0, why);
	if (!nl) {
		snprintf(err, errlen, "%s", why);
		ret = -1;
	} else if (!got || !buf) {
		snprintf(err, errlen, "nf_tables rule dump: %s", strerror(ENOMEM));
		ret = -1;
	}
	for (size_t f = 0; ret == 0 && f < nfam; f++) {
		struct dump_state st = dump_state_for(nft, got, n);
		bool interrupted = true;
		int rc = 0;

		/* An interrupted dump may have counted part of a set being
		 * replaced: start over. */
		for (int try = 0; rc == 0 && interrupted && try < DUMP_TRIES; try++) {
			memset(got, 0, (n ? n : 1) * sizeof(*got));
			st.counted = 0;
			rc = dump_once(nl, families[f], &st, buf, size, &interrupted);
		}
		if (rc == 0 && interrupted)
			errno = EINTR, rc = -1;
		if (rc < 0) {
			snprintf(err, errlen, "nf_tables rule dump (family %u, table %s): %s",
				 families[f], st.table, strerror(errno));
			ret = -1;
			break;
		}
		for (size_t i = 0; i < n; i++)
			hits[i] += got[i];
	}
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	free(got);
	return ret;
}
