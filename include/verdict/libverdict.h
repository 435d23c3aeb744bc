/*
 * verdict/libverdict.h - everything libverdict exports, in one include.
 *
 * Link with `pkg-config --cflags --libs libverdict`.
 */
#ifndef VERDICT_LIBVERDICT_H
#define VERDICT_LIBVERDICT_H

#include <verdict/abi.h>
#include <verdict/engine.h>
#include <verdict/log.h>
#include <verdict/nflog.h>
#include <verdict/packet.h>
#include <verdict/queue.h>
#include <verdict/rules.h>
#include <verdict/verdict.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VD_VERSION_MAJOR 0
#define VD_VERSION_MINOR 3
#define VD_VERSION_PATCH 0
#define VD_VERSION_STRING "0.3.0"

/* The library's version string, to compare with VD_VERSION_STRING. */
const char *vd_version(void);

#ifdef __cplusplus
}
#endif

#endif
