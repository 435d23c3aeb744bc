/*
 * verdictctl.c - talk to a running verdictd over its control socket.
 *
 *   verdictctl [--socket PATH] reload|stats|ping
 *
 * Exit status: 0 when verdictd answered and the answer does not start with
 * "error:" ("ok: ..." for reload and ping, the stats lines themselves for
 * stats, so that they parse as printed); 1 when it answered "error: ..." (e.g.
 * a rules file that does not load: the old rules stay live) or closed the
 * connection without an answer; 2 on bad arguments or when no verdictd
 * listens on the socket.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "control_client.h"

static int usage(FILE *out, int status)
{
	fprintf(out, "Usage: verdictctl [--socket PATH] reload|stats|ping\n"
		     "  reload   load the rules file again (SIGHUP does the same)\n"
		     "  stats    per-queue and per-rule counters\n"
		     "  ping     check that verdictd answers\n"
		     "  --socket PATH  control socket (default %s)\n"
		     "Exit status: 0 on success, 1 when verdictd answered \"error: ...\" or did\n"
		     "not answer, 2 on bad arguments or when no verdictd listens.\n",
		VD_CONTROL_DEFAULT_PATH);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = { { "socket", required_argument, NULL, 's' },
					       { "help", no_argument, NULL, 'h' },
					       { NULL, 0, NULL, 0 } };
	const char *path = VD_CONTROL_DEFAULT_PATH;
	int c, status;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:h", longs, NULL)) != -1) {
		if (c == 's')
			path = optarg;
		else if (c == 'h')
			return usage(stdout, 0);
		else {
			fprintf(stderr, "verdictctl: unknown option \"%s\" (see verdictctl --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 1 || (strcmp(argv[optind], "reload") && strcmp(argv[optind], "stats") &&
				   strcmp(argv[optind], "ping"))) {
		fprintf(stderr, "verdictctl: expected one command: reload, stats or ping "
				"(see verdictctl --help)\n");
		return 2;
	}
	status = vd_control_request(path, argv[optind], stdout);
	if (status < 0 && errno == ENODATA) {
		fprintf(stderr, "verdictctl: verdictd at %s closed the connection without answering "
				"\"%s\" (see its log)\n", path, argv[optind]);
		return 1;
	}
	if (status < 0) {
		fprintf(stderr, "verdictctl: cannot reach verdictd at %s: %s (is it running with "
				"--control %s?)\n", path, strerror(errno), path);
		return 2;
	}
	return status;
}
