/* firewall_install.c - generated rules into the kernel and out (firewall_install.h). */
#define _GNU_SOURCE /* open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <verdict/libverdict.h>

#include "firewall_install.h"
#include "firewall_nft.h"
#include "internal.h"
#include "spawn.h"

/* The tools of a family. -w: wait for the xtables lock rather than fail
 * (the legacy backend has one; the nf_tables one ignores it). */
struct family_tools {
	int family;
	char *version[3]; /* "-V": the backend */
	char *check[7];   /* "-C CHAIN -j OWN", filled per hook */
	char *list[5];    /* "-S OWN", filled per hook: fails when there is no OWN */
	char *restore[4];
};

static const struct family_tools tools[2] = {
	{ AF_INET, { "iptables", "-V", NULL },
	  { "iptables", "-w", "-C", NULL, "-j", NULL, NULL },
	  { "iptables", "-w", "-S", NULL, NULL },
	  { "iptables-restore", "-w", "--noflush", NULL } },
	{ AF_INET6, { "ip6tables", "-V", NULL },
	  { "ip6tables", "-w", "-C", NULL, "-j", NULL, NULL },
	  { "ip6tables", "-w", "-S", NULL, NULL },
	  { "ip6tables-restore", "-w", "--noflush", NULL } },
};

/* Each family's backend, asked once (main thread only). */
static char backends[2][16];

const char *vd_firewall_backend(int family)
{
	size_t i = family == AF_INET6;
	char *out = NULL, err[128];

	if (backends[i][0])
		return backends[i];
	if (vd_spawn_read(tools[i].version, &out, err, sizeof(err)) != 0)
		snprintf(backends[i], sizeof(backends[i]), "unknown");
	else
		vd_firewall_backend_parse(out, backends[i], sizeof(backends[i]));
	free(out);
	return backends[i];
}

bool vd_firewall_backend_legacy(void)
{
	return strcmp(vd_firewall_backend(AF_INET), "legacy") == 0 ||
	       strcmp(vd_firewall_backend(AF_INET6), "legacy") == 0;
}

/* A rule set that tells nft -c whether this kernel can queue from nft. */
static const char nft_probe[] = "table inet verdictd_probe {\n"
				"  chain probe {\n"
				"    type filter hook input priority 0; queue num 0 bypass\n"
				"  }\n"
				"}\n";

int vd_firewall_flavour_resolve(enum vd_firewall_flavour asked, char *err, size_t errlen)
{
	char *nft[] = { "nft", "-c", "-f", "-", NULL };
	char out[256];
	int rc;

	if (asked == VD_FW_FLAVOUR_IPTABLES)
		return VD_FW_FLAVOUR_IPTABLES;
	if (asked == VD_FW_FLAVOUR_AUTO && strcmp(vd_firewall_backend(AF_INET), "unknown") != 0) {
		vd_log(VD_LOG_INFO, "--firewall auto: iptables (installed; it needs no nft queue "
		       "expression, which some kernels lack)");
		return VD_FW_FLAVOUR_IPTABLES;
	}
	/* -c: the kernel checks the batch and commits nothing. */
	rc = vd_spawn_run(nft, nft_probe, sizeof(nft_probe) - 1, out, sizeof(out));
	if (rc == 0) {
		if (asked == VD_FW_FLAVOUR_AUTO)
			vd_log(VD_LOG_INFO, "--firewall auto: nft (iptables -V does not run)");
		return VD_FW_FLAVOUR_NFT;
	}
	if (rc == 127)
		snprintf(err, errlen, "--firewall %s: nft is not installed (%s)%s",
			 asked == VD_FW_FLAVOUR_AUTO ? "auto" : "nft", out,
			 asked == VD_FW_FLAVOUR_AUTO ? ", nor iptables" : "");
	else
		snprintf(err, errlen, "--firewall %s: this kernel's nf_tables has no queue "
			 "expression (nft says: %s); use --firewall iptables",
			 asked == VD_FW_FLAVOUR_AUTO ? "auto" : "nft", out);
	return -1;
}

/* Runs nft -f with what the nft writer produces (install: cfg; removal:
 * NULL). One transaction: on failure the kernel keeps what it had. */
static int nft_run(const struct vd_firewall_config *cfg, char *err, size_t errlen)
{
	char *argv[] = { "nft", "-f", "-", NULL };
	char *text = NULL, out[VD_ERRBUF_SIZE];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (!f) {
		snprintf(err, errlen, "nft: out of memory");
		return -1;
	}
	rc = cfg ? vd_firewall_nft_write(f, cfg) : vd_firewall_nft_write_removal(f);
	fclose(f);
	if (rc < 0 || !text) {
		snprintf(err, errlen, "nft: out of memory");
		free(text);
		return -1;
	}
	rc = vd_spawn_run(argv, text, len, out, sizeof(out));
	free(text);
	if (rc == 0)
		return 0;
	if (rc > 0)
		snprintf(err, errlen, "nft -f exited with %d: %s", rc, out[0] ? out : "(no message)");
	else
		snprintf(err, errlen, "nft: %s", out);
	return -1;
}

/* Which of cfg's hooks already jump to verdictd's chain, by `iptables -C`:
 * a set left by a killed daemon has them. */
static unsigned present_jumps(const struct family_tools *t, unsigned hooks)
{
	char *argv[7], out[256];
	unsigned present = 0;

	memcpy(argv, t->check, sizeof(argv));
	for (unsigned bit = 1; bit < 1u << VD_FW_HOOK_COUNT; bit <<= 1) {
		if (!(hooks & bit))
			continue;
		argv[3] = (char *)vd_firewall_hook_chain(bit);
		argv[5] = (char *)vd_firewall_own_chain(bit);
		if (vd_spawn_run(argv, NULL, 0, out, sizeof(out)) == 0)
			present |= bit;
	}
	return present;
}

/* What restore() writes. */
enum restore_what {
	RESTORE_INSTALL,
	RESTORE_REMOVE_HOOKS, /* cfg's hooks only: other hooks' chains stay */
	RESTORE_REMOVE_ALL,   /* and VERDICTD-DECIDED, which they all use */
};

/* Runs t's restore with what write() produced. */
static int restore(const struct family_tools *t, const struct vd_firewall_config *cfg,
		   enum restore_what what, char *err, size_t errlen)
{
	unsigned present = present_jumps(t, cfg->hooks);
	char *text = NULL, out[VD_ERRBUF_SIZE];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc = -1;

	if (!f) {
		snprintf(err, errlen, "%s: out of memory", t->restore[0]);
		return -1;
	}
	if (what != RESTORE_INSTALL)
		rc = vd_firewall_write_removal(f, cfg, present, what == RESTORE_REMOVE_ALL);
	else
		rc = vd_firewall_write(f, cfg, t->family, cfg->hooks & ~present);
	fclose(f);
	if (rc == 0 && !text)
		rc = -1;
	if (rc < 0) {
		snprintf(err, errlen, "%s: out of memory", t->restore[0]);
		free(text);
		return -1;
	}
	rc = vd_spawn_run(t->restore, text, len, out, sizeof(out));
	free(text);
	if (rc == 0)
		return 0;
	if (rc > 0)
		snprintf(err, errlen, "%s (%s) --noflush exited with %d: %s", t->restore[0],
			 vd_firewall_backend(t->family), rc, out[0] ? out : "(no message)");
	else
		snprintf(err, errlen, "%s (%s): %s", t->restore[0], vd_firewall_backend(t->family),
			 out);
	return -1;
}

/* The chains of verdictd's hooks outside hooks that exist in t's family:
 * a daemon killed while running with other --hooks left them. */
static unsigned stale_chains(const struct family_tools *t, unsigned hooks)
{
	char *argv[5], out[256];
	unsigned stale = 0;

	memcpy(argv, t->list, sizeof(argv));
	for (unsigned bit = 1; bit < 1u << VD_FW_HOOK_COUNT; bit <<= 1) {
		if (hooks & bit)
			continue;
		argv[3] = (char *)vd_firewall_own_chain(bit);
		if (vd_spawn_run(argv, NULL, 0, out, sizeof(out)) == 0)
			stale |= bit;
	}
	return stale;
}

/* Removes, in each family, the jumps and chains of verdictd's hooks that cfg
 * does not use (only VERDICTD-<HOOK> names, nothing else): a killed daemon's
 * chain for a hook no longer asked for would otherwise queue that hook's
 * packets to a queue nobody reads, or to this daemon. A failure is logged
 * and the install goes on: that chain ends in a queue rule with
 * --queue-bypass, so its traffic still flows. */
static void stale_remove(const struct vd_firewall_config *cfg)
{
	char err[VD_ERRBUF_SIZE];

	for (size_t i = 0; i < 2; i++) {
		struct vd_firewall_config stale = *cfg;

		stale.hooks = stale_chains(&tools[i], cfg->hooks);
		if (!stale.hooks)
			continue;
		if (restore(&tools[i], &stale, RESTORE_REMOVE_HOOKS, err, sizeof(err)) < 0)
			vd_log(VD_LOG_WARN, "cannot remove the chains an earlier verdictd left "
			       "for hooks not in --hooks: %s", err);
		else
			vd_log(VD_LOG_INFO, "%s: removed chains an earlier verdictd left for hooks "
			       "not in --hooks", tools[i].restore[0]);
	}
}

int vd_firewall_install(struct vd_firewall *fw, const struct vd_firewall_config *cfg, char *err,
			size_t errlen)
{
	char undo[VD_ERRBUF_SIZE];

	if (fw->flavour == VD_FW_FLAVOUR_NFT) {
		if (nft_run(cfg, err, errlen) < 0)
			return -1;
		fw->cfg = *cfg;
		fw->installed = true;
		return 0;
	}
	if (!fw->installed)
		stale_remove(cfg);
	for (size_t i = 0; i < 2; i++) {
		if (restore(&tools[i], cfg, RESTORE_INSTALL, err, errlen) == 0)
			continue;
		/* The families that took the new set go back to what was. */
		while (i-- > 0) {
			int rc = fw->installed ? restore(&tools[i], &fw->cfg, RESTORE_INSTALL, undo, sizeof(undo))
					       : restore(&tools[i], cfg, RESTORE_REMOVE_ALL, undo, sizeof(undo));
			if (rc < 0)
				vd_log(VD_LOG_ERROR, "undoing a failed install: %s", undo);
		}
		return -1;
	}
	fw->cfg = *cfg;
	fw->installed = true;
	return 0;
}

int vd_firewall_remove(struct vd_firewall *fw, char *err, size_t errlen)
{
	char one[VD_ERRBUF_SIZE];
	int rc = 0;

	if (!fw->installed)
		return 0;
	if (fw->flavour == VD_FW_FLAVOUR_NFT) {
		fw->installed = false;
		return nft_run(NULL, err, errlen);
	}
	for (size_t i = 0; i < 2; i++)
		if (restore(&tools[i], &fw->cfg, RESTORE_REMOVE_ALL, one, sizeof(one)) < 0) {
			if (rc == 0)
				snprintf(err, errlen, "%s", one);
			rc = -1;
		}
	fw->installed = false;
	return rc;
}
