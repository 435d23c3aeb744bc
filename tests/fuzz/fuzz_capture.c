/*
 * fuzz_capture.c - the pcap/pcapng reader (engine/daemon/capture.c): the
 * input is a capture file, written to a memfd and opened through
 * /proc/self/fd, then read record by record to the end or the first error.
 * Every packet returned must be a view that keeps the parser's invariants;
 * an error must come with a message.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture.h"
#include "fuzz_view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int write_all(int fd, const uint8_t *data, size_t size)
{
	while (size > 0) {
		ssize_t n = write(fd, data, size);

		if (n <= 0)
			return -1;
		data += n;
		size -= (size_t)n;
	}
	return 0;
}

static void read_all(const char *path)
{
	char err[512] = "";
	struct vd_capture *c = vd_capture_open(path, err, sizeof(err));
	struct vd_packet pkt;
	int r;

	if (!c) {
		FUZZ_CHECK(err[0] != '\0');
		return;
	}
	while ((r = vd_capture_next(c, &pkt, err, sizeof(err))) == 1) {
		FUZZ_CHECK(pkt.source == VD_SOURCE_REPLAY);
		fuzz_view_check(&pkt, true);
		if (pkt.prefix)
			FUZZ_CHECK(strlen(pkt.prefix) < 65536);
		if (pkt.meta & VD_META_SECCTX)
			FUZZ_CHECK(pkt.secctx != NULL || pkt.secctx_len == 0);
	}
	FUZZ_CHECK(r == 0 || (r == -1 && err[0] != '\0'));
	vd_capture_close(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = memfd_create("fuzz_capture", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write_all(fd, data, size) == 0) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		read_all(path);
	}
	close(fd);
	return 0;
}
