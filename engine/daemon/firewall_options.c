/* firewall_options.c - generated rules from the daemon's options (firewall_options.h). */
#include <errno.h>
#include <sys/socket.h>

#include <verdict/kernel_mark.h>
#include <verdict/libverdict.h>

#include "firewall_nft.h"
#include "firewall_options.h"
#include "internal.h"

void vd_firewall_config_from(const struct vd_cli_options *o, struct vd_rules *rules,
			     struct vd_firewall_config *cfg)
{
	*cfg = (struct vd_firewall_config){
		.hooks = o->hooks,
		.mark_mask = o->kernel_mark_mask,
		.first_packets = o->first_packets,
	};
	/* vd_cli_firewall_finish made sure the queues are a range. */
	(void)vd_firewall_queues_set(cfg, o->queues, o->nqueues);
	if (!cfg->first_packets && rules)
		cfg->first_packets = vd_rules_first_packets(rules);
}

void vd_firewall_offload_from(const struct vd_cli_options *o, struct vd_rules *rules,
			      struct vd_firewall_offload *off)
{
	uint32_t flags = o->queue_flags | o->optional_flags;

	off->rules = rules;
	off->hook = VD_OFFLOAD_INPUT;
	off->kmark_mask = o->kernel_mark_mask ? o->kernel_mark_mask : VD_KMARK_DEFAULT_MASK;
	off->no_conntrack = !(flags & VD_QUEUE_F_CONNTRACK);
	off->no_uid_gid = !(flags & VD_QUEUE_F_UID_GID);
	off->nft = false;
}

int vd_firewall_print(const struct vd_cli_options *o, FILE *out)
{
	struct vd_rules_config rc = {
		.path = o->rules,
		.lua_memory = o->lua_memory,
		.lua_load_instructions = o->lua_load_instructions,
		.lua_load_ms = o->lua_load_ms,
		.plugin_path = o->plugin_path,
	};
	struct vd_rules *rules = NULL;
	struct vd_firewall_config cfg;
	struct vd_firewall_offload off;
	char errbuf[VD_ERRBUF_SIZE];
	int rc_out = 0;

	/* No workers: the file's top-level keys and its rules' matches are
	 * wanted, not its hooks. */
	if (o->rules && !(rules = vd_rules_open(&rc, errbuf))) {
		fprintf(stderr, "verdictd: %s\n", errbuf);
		return errno == ENOMEM ? 1 : 2;
	}
	vd_firewall_config_from(o, rules, &cfg);
	vd_firewall_offload_init(&off);
	if (rules) {
		vd_firewall_offload_from(o, rules, &off);
		cfg.offload = vd_firewall_offload_write;
		cfg.offload_nft = vd_firewall_offload_write_nft;
		cfg.offload_ctx = &off;
	}
	/* Two files for two tools: a comment line names each one's loader.
	 * The planner is told which it writes: nft holds large address sets
	 * in its rules, iptables leaves them in verdictd (offload_plan.c). */
	if (o->print_firewall & VD_CLI_PRINT_NFT) {
		fputs("# nft -f (verdictd --print-firewall=nft)\n", out);
		off.nft = true;
		rc_out |= vd_firewall_nft_write(out, &cfg);
	}
	off.nft = false;
	if (o->print_firewall & VD_CLI_PRINT_IP4) {
		fputs("# iptables-restore --noflush (verdictd --print-firewall=ip4)\n", out);
		rc_out |= vd_firewall_write(out, &cfg, AF_INET, cfg.hooks);
	}
	if (o->print_firewall & VD_CLI_PRINT_IP6) {
		fputs("# ip6tables-restore --noflush (verdictd --print-firewall=ip6)\n", out);
		rc_out |= vd_firewall_write(out, &cfg, AF_INET6, cfg.hooks);
	}
	vd_firewall_offload_fini(&off);
	vd_rules_close(rules);
	if (rc_out) {
		fprintf(stderr, "verdictd: --print-firewall: cannot write the rules\n");
		return 1;
	}
	return 0;
}

int vd_firewall_apply(struct vd_firewall *fw, const struct vd_cli_options *o,
		      struct vd_rules *rules, struct vd_firewall_offload *offload, char *err,
		      size_t errlen)
{
	struct vd_firewall_config cfg;
	bool replacing = fw->installed;
	char tools[64];
	int rc;

	vd_firewall_config_from(o, rules, &cfg);
	if (offload) {
		cfg.offload = vd_firewall_offload_write;
		cfg.offload_nft = vd_firewall_offload_write_nft;
		cfg.offload_ctx = offload;
		/* The legacy backend's rules are not nf_tables': its tool reads them. */
		vd_firewall_offload_source(offload, fw->flavour == VD_FW_FLAVOUR_NFT,
					   fw->flavour == VD_FW_FLAVOUR_NFT ||
						   !vd_firewall_backend_legacy());
		vd_firewall_offload_prepare(offload);
	}
	rc = vd_firewall_install(fw, &cfg, err, errlen);
	if (offload)
		vd_firewall_offload_commit(offload, rc == 0);
	if (rc < 0)
		return -1;
	if (fw->flavour == VD_FW_FLAVOUR_NFT)
		snprintf(tools, sizeof(tools), "nft, table inet %s", VD_FIREWALL_NFT_TABLE);
	else
		snprintf(tools, sizeof(tools), "iptables %s, ip6tables %s",
			 vd_firewall_backend(AF_INET), vd_firewall_backend(AF_INET6));
	if (cfg.first_packets)
		vd_log(VD_LOG_INFO, "kernel rules %s (%s): the first %u packets of each "
		       "connection are queued", replacing ? "replaced" : "installed", tools,
		       cfg.first_packets);
	else
		vd_log(VD_LOG_INFO, "kernel rules %s (%s): every packet is queued",
		       replacing ? "replaced" : "installed", tools);
	return 0;
}
