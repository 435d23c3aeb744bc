/*
 * fuzz_netlink.h - what the netlink targets skip, and why.
 *
 * Known finding (see tests/fuzz/findings/README): libmnl's mnl_nlmsg_ok
 * compares (int)nlmsg_len with the bytes left, so a message whose nlmsg_len
 * is 0x80000000 or more passes as a valid message, and mnl_nlmsg_next then
 * steps outside the datagram. queue_answer.c, nflog.c and nl_socket.c walk
 * datagrams with it. Until the engine walks with a check of its own, the
 * targets leave such datagrams out so that the fuzzer can look further;
 * remove the call (and this function) with the fix, so that the
 * reproducers in findings/ move to the corpus as regression seeds.
 *
 * Known finding: verdict_batch.c's NF_QUEUE_NR(v.queue) shifts a queue
 * number promoted to int left by 16, undefined for queues 32768-65535; the
 * NFQUEUE target's callback keeps its queue numbers below 32768 until that
 * is fixed (findings/nfq_message/queue-65535-shift).
 *
 * FUZZ_NO_SKIP=1 in the environment turns both skips off, to reproduce.
 */
#ifndef VD_FUZZ_NETLINK_H
#define VD_FUZZ_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <linux/netlink.h>

/* Whether known findings are left out (FUZZ_NO_SKIP unset). */
static inline bool fuzz_skip_known(void)
{
	static int skip = -1;

	if (skip < 0)
		skip = getenv("FUZZ_NO_SKIP") == NULL;
	return skip;
}

/* Whether the walk mnl_nlmsg_ok/mnl_nlmsg_next does over buf[0, len) meets a
 * message whose nlmsg_len does not fit an int. */
static inline bool fuzz_nlmsg_len_wraps(const uint8_t *buf, size_t len)
{
	size_t off = 0;

	if (!fuzz_skip_known())
		return false;
	while (len - off >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(buf + off);

		if (nlh->nlmsg_len > INT32_MAX)
			return true;
		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len - off)
			return false;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
		if (off > len)
			return false;
	}
	return false;
}

#endif
