/*
 * firewall_nft.h - verdictd's kernel rules as one `nft -f` file (the nft
 * flavour of firewall.h's iptables-restore files): table inet verdictd, one
 * base chain per hook at priority -1 (before the filter chains of iptables-nft
 * and of hand-written nft tables, which sit at 0) and a regular chain
 * "decided", in firewall.h's order and with kernel_mark.h's codes:
 *
 *  0. the fast path: past --first-packets N a packet with no code of a
 *     connection with none, and a packet with no code of a connection decided
 *     "accept", are accepted by one rule each;
 *  1. loop guard: a packet marked PASS returns (the hook goes on);
 *  2. a code on the packet or its connection: jump to "decided", which saves
 *     a connection code into the connection mark (one rule per code: nft
 *     cannot or two marks together), then acts on the connection's code, then
 *     the packet's: accept, drop, reject (icmpx types serve both families);
 *  3. --first-packets N: past the Nth packet, accept;
 *  4. the offloaded rules (cfg->offload_nft; firewall_offload.h), if any;
 *  5. queue, with bypass (num A-B spreads over several queues by flow).
 *
 * Unlike the iptables flavour, an accept here ends verdictd's chain only:
 * the packet still meets every later base chain of the hook (the host's own
 * firewall), where a drop still drops; so does an offloaded rule's accept.
 *
 * The file replaces the table atomically: it declares it, deletes it (which
 * removes a set a killed daemon left) and writes it again, in one
 * transaction. Pure text: firewall_install.c runs nft.
 */
#ifndef VD_FIREWALL_NFT_H
#define VD_FIREWALL_NFT_H

#include <stdio.h>

#include "firewall.h"

/* The table's name, in family inet. */
#define VD_FIREWALL_NFT_TABLE "verdictd"

/* Writes the file for cfg (cfg->offload_nft, not cfg->offload). 0, or -1
 * when out fails. */
int vd_firewall_nft_write(FILE *out, const struct vd_firewall_config *cfg);

/* Writes the file that removes the table (and succeeds when there is none). */
int vd_firewall_nft_write_removal(FILE *out);

#endif
