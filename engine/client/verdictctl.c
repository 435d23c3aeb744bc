/*
 * verdictctl.c - talk to a running verdictd over its control socket.
 *
 *   verdictctl [--socket PATH] [--timeout SECONDS] reload|stats [--json]|metrics|ping
 *
 * Exit status: 0 when verdictd answered and the answer does not start with
 * "error:" ("ok: ..." for reload and ping, the stats lines, JSON object or
 * Prometheus text themselves for stats and metrics, so that they parse as
 * printed); 1 when it answered "error: ..." (e.g.
 * a rules file that does not load: the old rules stay live) or closed the
 * connection without an answer; 2 on bad arguments, when no verdictd
 * listens on the socket, or when it did not answer within the timeout.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_client.h"

#define DEFAULT_TIMEOUT_S 5.0
#define MAX_TIMEOUT_S 86400.0

static int usage(FILE *out, int status)
{
	fprintf(out, "Usage: verdictctl [--socket PATH] [--timeout SECONDS] COMMAND\n"
		     "  reload        load the rules file again (SIGHUP does the same)\n"
		     "  stats         per-queue, per-group, per-output and per-rule counters\n"
		     "  stats --json  the same counters (and the daemon's) as one JSON object\n"
		     "  metrics       every counter in the Prometheus text exposition format\n"
		     "  ping          check that verdictd answers\n"
		     "  --socket PATH      control socket (default %s)\n"
		     "  --timeout SECONDS  give up when the whole answer has not come by then\n"
		     "                     (default %g; a reload goes on in verdictd)\n"
		     "Exit status: 0 on success, 1 when verdictd answered \"error: ...\" or closed\n"
		     "the connection without answering, 2 on bad arguments, when no verdictd\n"
		     "listens, or when it did not answer in time.\n",
		VD_CONTROL_DEFAULT_PATH, DEFAULT_TIMEOUT_S);
	return status;
}

static int parse_timeout(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0.001) || v > MAX_TIMEOUT_S)
		return -1;
	*out = v;
	return 0;
}

/* Prints why the request failed; returns the exit status. */
static int request_failed(const char *path, const char *cmd, double timeout)
{
	if (errno == ENODATA) {
		fprintf(stderr, "verdictctl: verdictd at %s closed the connection without answering "
				"\"%s\" (see its log)\n", path, cmd);
		return 1;
	}
	if (errno == ETIMEDOUT) {
		fprintf(stderr, "verdictctl: verdictd at %s did not answer \"%s\" within %g s%s "
				"(--timeout SECONDS)\n", path, cmd, timeout,
			strcmp(cmd, "reload") == 0 ? "; the reload goes on, see its log" : "");
		return 2;
	}
	fprintf(stderr, "verdictctl: cannot reach verdictd at %s: %s (is it running with "
			"--control %s?)\n", path, strerror(errno), path);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = { { "socket", required_argument, NULL, 's' },
					       { "timeout", required_argument, NULL, 't' },
					       { "json", no_argument, NULL, 'j' },
					       { "help", no_argument, NULL, 'h' },
					       { NULL, 0, NULL, 0 } };
	const char *path = VD_CONTROL_DEFAULT_PATH;
	double timeout = DEFAULT_TIMEOUT_S;
	const char *cmd;
	int c, status, json = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:t:h", longs, NULL)) != -1) {
		if (c == 's') {
			path = optarg;
		} else if (c == 't') {
			if (parse_timeout(optarg, &timeout) < 0) {
				fprintf(stderr, "verdictctl: --timeout: \"%s\" is not a number of "
						"seconds from 0.001 to %g (see verdictctl --help)\n",
					optarg, MAX_TIMEOUT_S);
				return 2;
			}
		} else if (c == 'j') {
			json = 1;
		} else if (c == 'h') {
			return usage(stdout, 0);
		} else {
			fprintf(stderr, "verdictctl: unknown option \"%s\" (see verdictctl --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	cmd = optind == argc - 1 ? argv[optind] : "";
	if (strcmp(cmd, "reload") && strcmp(cmd, "stats") && strcmp(cmd, "metrics") &&
	    strcmp(cmd, "ping")) {
		fprintf(stderr, "verdictctl: expected one command: reload, stats, metrics or ping "
				"(see verdictctl --help)\n");
		return 2;
	}
	if (json && strcmp(cmd, "stats") != 0) {
		fprintf(stderr, "verdictctl: --json goes with stats only (see verdictctl --help)\n");
		return 2;
	}
	/* The protocol's commands are one word each. */
	if (json)
		cmd = "stats-json";
	status = vd_control_request(path, cmd, (int)(timeout * 1000 + 0.5), stdout);
	if (status < 0)
		return request_failed(path, cmd, timeout);
	return status;
}
