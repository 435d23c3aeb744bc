/*
 * cli.h - verdictd's command line, parsed into options (no side effects, so
 * that tests can drive it).
 */
#ifndef VD_CLI_H
#define VD_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <verdict/verdict.h>

#define VD_CLI_MAX_QUEUES 256
#define VD_CLI_MAX_CPUS 1024

struct vd_cli_options {
	unsigned queues[VD_CLI_MAX_QUEUES];
	size_t nqueues;
	unsigned cpus[VD_CLI_MAX_CPUS];
	size_t ncpus;
	struct vd_verdict default_verdict;
	uint32_t copy_range;   /* 0: the maximum */
	uint32_t maxlen;       /* 0: vd_tuning_default_maxlen (queue_tuning.h) */
	uint32_t maxlen_max;   /* growth limit; 0: the default (queue_tuning.h) */
	unsigned queue_rcvbuf_max; /* growth limit; 0: the default (queue_tuning.h) */
	uint32_t hold_max;     /* 0: VD_QUEUE_DEFAULT_HOLD_MAX */
	uint32_t queue_flags;  /* enum vd_queue_flag, required */
	uint32_t optional_flags; /* enum vd_queue_flag, dropped if unsupported */
	unsigned batch;        /* 0: the library's default */
	unsigned rcvbuf;       /* 0: the library's default */
	double stats_interval; /* seconds; 0: no periodic line */
	const char *metrics_file; /* --metrics-file PATH, rewritten every stats interval */
	const char *rules;     /* --rules FILE, or NULL: every packet gets default_verdict */
	const char *check;     /* --check FILE: validate, summarise, exit */
	const char *control;   /* control socket path; NULL: none */
	int control_set;       /* --control was given (else: default with --rules) */
	const char *control_group; /* --control-group NAME|GID: may use the socket too */
	const char *plugin_path; /* extra plugin directories */
	size_t lua_memory;     /* 0: the library's default */
	unsigned lua_instructions; /* 0: the library's default */
	unsigned lua_call_ms;      /* 0: the library's default */
	uint64_t lua_load_instructions; /* 0: the library's default */
	unsigned lua_load_ms;      /* 0: the library's default */
	int verbose;
	/* NFLOG groups and outputs */
	unsigned groups[VD_CLI_MAX_QUEUES];
	size_t ngroups;
	uint8_t nflog_copy;        /* enum vd_nflog_copy */
	uint32_t nflog_range;      /* 0: the maximum */
	uint32_t nflog_threshold, nflog_timeout, nflog_nlbufsiz; /* 0: the kernel's */
	uint16_t nflog_flags;      /* enum vd_nflog_flag */
	unsigned nflog_rcvbuf_max; /* 0: the library's */
	const char *netns;         /* --netns NAME|PATH */
	const char *log_json;      /* --log-json PATH|- */
	const char *log_pcap;      /* --log-pcap PATH */
	int pcap_raw;              /* --log-pcap-linktype raw */
	const char *replay;        /* --replay FILE */
	const char *write_pcap;    /* --write-pcap PATH (with --replay) */
	/* Generated kernel rules (cli_firewall.c) */
	int firewall;              /* --firewall: enum vd_firewall_flavour; 0: none */
	unsigned print_firewall;   /* --print-firewall: VD_CLI_PRINT_* bits; 0: run */
	unsigned hooks;            /* --hooks: enum vd_firewall_hook bits (input) */
	unsigned first_packets;    /* --first-packets N; 0: the rules file's */
	/* --bypass-mark, else VD_KMARK_DEFAULT_MASK with --firewall or
	 * --print-firewall; 0: no generated rules, so no mark codes */
	uint32_t kernel_mark_mask;
	bool kernel_mark_mask_explicit; /* --bypass-mark was given */
	const char *user;          /* --user NAME|UID: drop to it once set up */
	const char *group;         /* --group NAME|GID (with --user) */
	int no_seccomp;            /* --no-seccomp */
	int realtime;              /* --realtime PRIO: queue workers SCHED_FIFO; 0: off */
};

#define VD_CLI_PRINT_IP4 1u
#define VD_CLI_PRINT_IP6 2u
#define VD_CLI_PRINT_NFT 4u /* the nft -f file instead */

enum vd_cli_action {
	VD_CLI_RUN,        /* options are complete: run */
	VD_CLI_EXIT_OK,    /* --help or --version was printed */
	VD_CLI_EXIT_USAGE, /* an error line was printed: exit status 2 */
};

/* Parses argv into o. Help and version go to out; an error goes to err as
 * one line naming the option and the value. Resets getopt, so it may be
 * called more than once. */
enum vd_cli_action vd_cli_parse(int argc, char **argv, struct vd_cli_options *o, FILE *out,
				FILE *err);

#endif
