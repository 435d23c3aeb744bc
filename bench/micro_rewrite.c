/*
 * micro_rewrite.c - vd-micro's rewrite rows: what rewriting adds to a
 * rule table's evaluation, offline (see micro.c for the rows).
 *
 * Each packet is copied from the corpus into a buffer with tail room, as a
 * receive slot holds it, before it is parsed and evaluated: a rewrite
 * changes the bytes, and the next round must start from the original (a
 * second TTL=33 on a packet that already has it costs nothing).
 */
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include <verdict/edit.h>
#include <verdict/queue.h> /* VD_ERRBUF_SIZE */
#include <verdict/rules.h>

#include "micro.h"
#include "rcu.h"

#define RW_CORPUS 64
#define RW_PAYLOAD 64
#define RW_ROOM 2048

static uint8_t rw_bytes[RW_CORPUS][128];
static uint32_t rw_len[RW_CORPUS];

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* UDP packets with right checksums: 3/4 IPv4, 1/4 IPv6. */
static void rw_corpus_build(void)
{
	for (unsigned i = 0; i < RW_CORPUS; i++) {
		uint8_t *b = rw_bytes[i], *udp;
		bool v6 = i % 4 == 3;
		uint32_t hl = v6 ? 40 : 20, ulen = 8 + RW_PAYLOAD, pseudo;

		memset(b, 0, sizeof(rw_bytes[i]));
		if (v6) {
			b[0] = 0x60, b[6] = IPPROTO_UDP, b[7] = 64;
			put16(b + 4, ulen);
			b[8] = 0x20, b[9] = 0x01, b[10] = 0x0d, b[11] = 0xb8, b[23] = (uint8_t)i;
			b[24] = 0x20, b[25] = 0x01, b[26] = 0x0d, b[27] = 0xb8, b[39] = 1;
			pseudo = sum16(b + 8, 32, 0) + IPPROTO_UDP + ulen;
		} else {
			b[0] = 0x45, b[8] = 64, b[9] = IPPROTO_UDP;
			put16(b + 2, hl + ulen);
			b[12] = 198, b[13] = 18, b[14] = 0, b[15] = (uint8_t)i;
			b[16] = 198, b[17] = 19, b[18] = 0, b[19] = 1;
			put16(b + 10, fold(sum16(b, 20, 0)));
			pseudo = sum16(b + 12, 8, 0) + IPPROTO_UDP + ulen;
		}
		udp = b + hl;
		put16(udp, 20000 + i);
		put16(udp + 2, 9000);
		put16(udp + 4, ulen);
		for (unsigned k = 0; k < RW_PAYLOAD; k++)
			udp[8 + k] = (uint8_t)(i + k);
		put16(udp + 6, fold(sum16(udp, ulen, pseudo)));
		rw_len[i] = hl + ulen;
	}
}

static uint64_t rewrite_round(void *arg, unsigned long n)
{
	static uint8_t slot[RW_ROOM];
	struct vd_rules *r = arg;
	struct vd_packet_edit edit;
	struct vd_packet pkt;
	uint64_t acc = 0;

	for (unsigned long i = 0; i < n; i++) {
		unsigned k = (unsigned)(i % RW_CORPUS);

		memcpy(slot, rw_bytes[k], rw_len[k]);
		vd_packet_view_init(&pkt, slot, rw_len[k], rw_len[k]);
		vd_packet_parse(&pkt);
		vd_packet_edit_prepare(&edit, &pkt, slot, sizeof(slot), 0);
		acc += vd_rules_eval_edit(r, 0, &edit, NULL).kind + edit.len;
		if ((i & 63) == 63)
			vd_rcu_quiescent();
	}
	return acc;
}

/* The row, with a check that the table rewrote (or, for the base, did not). */
static void rewrite_row(const char *row, const char *path, unsigned long n, bool rewrites)
{
	struct vd_rules_config cfg = { .path = path, .nworkers = 1 };
	char err[VD_ERRBUF_SIZE];
	struct vd_rules *r = vd_rules_open(&cfg, err);
	uint8_t slot[RW_ROOM];
	struct vd_packet_edit edit;
	struct vd_packet pkt;

	if (!r) {
		fprintf(stderr, "vd-micro: %s\n", err);
		exit(1);
	}
	memcpy(slot, rw_bytes[0], rw_len[0]);
	vd_packet_view_init(&pkt, slot, rw_len[0], rw_len[0]);
	vd_packet_parse(&pkt);
	vd_packet_edit_prepare(&edit, &pkt, slot, sizeof(slot), 0);
	vd_rules_eval_edit(r, 0, &edit, NULL);
	if (vd_packet_edit_pending(&edit) != rewrites) {
		fprintf(stderr, "vd-micro: %s: %s rewrite the packet\n", path,
			rewrites ? "did not" : "did");
		exit(1);
	}
	report(row, measure(rewrite_round, r, n));
	vd_rules_close(r);
}

void micro_rewrite_rows(const char *rules_dir, unsigned long n)
{
	char base[512], set[512], lua[512];
	FILE *f;

	rw_corpus_build();
	snprintf(base, sizeof(base), "/tmp/vd-micro-rw-base.%d.lua", (int)getpid());
	f = fopen(base, "w");
	if (!f) {
		perror("vd-micro: rewrite-base rules");
		exit(1);
	}
	fputs("return { rules = { { name = \"none\", proto = \"udp\", verdict = \"accept\" } } }\n", f);
	fclose(f);
	snprintf(set, sizeof(set), "%s/rewrite_set.lua", rules_dir);
	snprintf(lua, sizeof(lua), "%s/rewrite_lua.lua", rules_dir);
	rewrite_row("rewrite-base", base, n, false);
	rewrite_row("rewrite-set", set, n, true);
	rewrite_row("rewrite-lua", lua, n, true);
	unlink(base);
}
