/* capture_fixture.h - shared by the pcap writer and capture reader tests:
 * each test gets a mkdtemp directory (path names a file in it), an IPv4 UDP
 * packet (b4, n4) and an IPv6 TCP SYN (b6, n6); teardown removes the
 * directory and lifts a file size limit an assert left behind. */
#ifndef VD_TEST_CAPTURE_FIXTURE_H
#define VD_TEST_CAPTURE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "capture.h"
#include "helpers.h"
#include "pcap_out.h"

extern char dir[64], path[128], err[512];
extern uint8_t b4[VT_PACKET_MAX], b6[VT_PACKET_MAX];
extern size_t n4, n6;

int setup(void **state);
int teardown(void **state);

/* Parses n bytes at b into p; they must parse cleanly. */
void view(struct vd_packet *p, const uint8_t *b, size_t n);
uint64_t now_ns(void); /* CLOCK_REALTIME */

/* Opens file for reading (must succeed); the next packet (1, 0 at the end). */
struct vd_capture *reader(const char *file);
int next(struct vd_capture *c, struct vd_packet *q);

/* q, read back, against p, written with prefix: bytes, ports, metadata. */
void same(const struct vd_packet *q, const struct vd_packet *p, bool nflog, const char *prefix);

/* Reads file and checks it holds exactly the IP versions in want ("446"). */
void expect_versions(const char *file, const char *want);

/* RLIMIT_FSIZE cuts writes short as a full disk does. */
void limit_file_size(off_t bytes);
void unlimit_file_size(void);

#endif
