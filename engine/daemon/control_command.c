/* control_command.c - the control protocol's command parser (control_command.h). */
#include <stdio.h>
#include <string.h>

#include "control_command.h"

static const char *const names[] = {
	[VD_CONTROL_RELOAD] = "reload",
	[VD_CONTROL_STATS] = "stats",
	[VD_CONTROL_PING] = "ping",
	[VD_CONTROL_STATS_JSON] = "stats-json",
	[VD_CONTROL_METRICS] = "metrics",
};

#define COMMAND_LIST "reload, stats, stats-json, metrics or ping"

#define NCOMMANDS (sizeof(names) / sizeof(names[0]))

const char *vd_control_command_name(enum vd_control_command cmd)
{
	return (size_t)cmd < NCOMMANDS ? names[cmd] : "?";
}

static const char *byte_name(unsigned char b)
{
	switch (b) {
	case '\0':
		return " (NUL)";
	case '\t':
		return " (tab)";
	case '\r':
		return " (carriage return)";
	case '\n':
		return " (newline)";
	default:
		return "";
	}
}

int vd_control_command_parse(const char *buf, size_t len, enum vd_control_command *cmd, char *err,
			     size_t errlen)
{
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len == 0) {
		snprintf(err, errlen, "empty command (" COMMAND_LIST ")");
		return -1;
	}
	/* Refuse before comparing: a C-string compare would stop at a NUL
	 * and take "reload\0junk" for "reload". */
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)buf[i];

		if (b < 0x20 || b > 0x7e) {
			snprintf(err, errlen, "byte %zu of the command is 0x%02x%s: commands are "
				 "printable ASCII text", i + 1, b, byte_name(b));
			return -1;
		}
	}
	for (size_t c = 0; c < NCOMMANDS; c++) {
		if (strlen(names[c]) == len && memcmp(buf, names[c], len) == 0) {
			*cmd = (enum vd_control_command)c;
			return 0;
		}
	}
	/* Printable by now: safe to quote, cut to keep the line short. */
	snprintf(err, errlen, "unknown command \"%.*s%s\" (" COMMAND_LIST ")",
		 (int)(len > 40 ? 40 : len), buf, len > 40 ? "..." : "");
	return -1;
}
