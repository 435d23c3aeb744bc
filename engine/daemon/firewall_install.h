/*
 * firewall_install.h - puts verdictd's generated rules (firewall.h) into
 * the kernel and takes them out again, with iptables-restore and
 * ip6tables-restore (spawn.h), one --noflush transaction per family; or,
 * in the nft flavour, with one `nft -f` transaction that replaces table inet
 * verdictd whole (firewall_nft.h), a killed daemon's included.
 *
 * Installing declares verdictd's chains (which flushes a set a killed
 * daemon left behind) and inserts the jump to each at position 1 of its
 * built-in chain only when `iptables -C` does not find it there already: a
 * stale set is replaced, never doubled. The first install also removes the
 * VERDICTD-<HOOK> chains (and their jumps) of hooks not in --hooks that a
 * daemon killed while running with other hooks left. Removing deletes
 * exactly the jumps and chains of the installed set. Nothing else in any
 * table is touched.
 *
 * Main thread only; each call blocks while the tools run.
 */
#ifndef VD_FIREWALL_INSTALL_H
#define VD_FIREWALL_INSTALL_H

#include <stdbool.h>
#include <stddef.h>

#include "firewall.h"

/* --firewall FLAVOUR */
enum vd_firewall_flavour {
	VD_FW_FLAVOUR_NONE = 0,
	VD_FW_FLAVOUR_IPTABLES,
	VD_FW_FLAVOUR_NFT,
	VD_FW_FLAVOUR_AUTO,
};

/* What is in the kernel. */
struct vd_firewall {
	struct vd_firewall_config cfg; /* the set installed, when installed */
	bool installed;
	enum vd_firewall_flavour flavour; /* IPTABLES (also when 0) or NFT */
};

/* The flavour that will install, VD_FW_FLAVOUR_IPTABLES or _NFT; or -1 with
 * err saying why the one asked for cannot (nft: nft is not installed, or
 * this kernel's nf_tables has no queue expression, which `nft -c` of a
 * probe table tells). AUTO picks iptables when iptables -V runs (it needs
 * no queue expression in nf_tables, which some kernels lack), else nft when
 * the probe passes, and logs which and why, once. */
int vd_firewall_flavour_resolve(enum vd_firewall_flavour asked, char *err, size_t errlen);

/* The backend family's tool writes to, "nf_tables" or "legacy" (or
 * "unknown"), from its -V line, asked at the first call (firewall.h's
 * vd_firewall_backend_parse). The error lines of install and remove name
 * it beside the tool. */
const char *vd_firewall_backend(int family);

/* True when a family's tool is the legacy backend: its tools reach the
 * kernel through raw IP sockets (setsockopt), not netlink, which the
 * seccomp allow-list (seccomp_filter.h) refuses. Main thread only. */
bool vd_firewall_backend_legacy(void);

/* Installs cfg, or replaces what fw holds by it. 0; or -1 with err naming
 * the tool and its complaint, fw unchanged: the rules in the kernel are the
 * ones before the call (a family that took the new set gets the old one
 * back, or, at the first install, is removed again). */
int vd_firewall_install(struct vd_firewall *fw, const struct vd_firewall_config *cfg, char *err,
			size_t errlen);

/* Removes verdictd's jumps and chains. 0 (also when nothing is installed);
 * -1 with err when a family's removal failed (the other is removed). */
int vd_firewall_remove(struct vd_firewall *fw, char *err, size_t errlen);

#endif
