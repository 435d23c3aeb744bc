/*
 * verdict/abi.h - how libverdict's binary interface is kept, and the one
 * macro its headers use for it.
 *
 * What a compiled program may rely on (libverdict.so.VD_SOVERSION):
 *
 * - Exports. The library is built with -fvisibility=hidden and exports
 *   exactly the functions its headers declare, each in the version node of
 *   the release that added it (engine/lib/libverdict.map: VERDICT_0.2, ...).
 *   A release that adds functions adds a node; nothing else changes.
 *
 * - Structs a program passes in or gets filled (every *_config and *_stats
 *   struct) only grow, at their end. Functions that take them are macros
 *   that pass the caller's sizeof along (vd_queue_open(cfg, err) calls
 *   vd_queue_open_sized(cfg, sizeof(*cfg), err)), so the library reads and
 *   writes only the bytes the caller's version of the struct has: fields
 *   added later read as zero (their documented default) for an older
 *   program, and an output struct is filled up to the caller's size only.
 *   A program built against newer headers than the library it runs with is
 *   refused (EINVAL, "... built against a newer libverdict") only when it
 *   sets a field this library does not know; zeroes there are fine.
 *   A field is never added into an older struct's tail padding (which the
 *   older program passes in its size, uninitialised): a named reserved
 *   field fills the padding first (struct vd_engine_config's reserved_0_4).
 *
 * - struct vd_packet is the library's: programs and plugins read it through
 *   a pointer and never allocate or copy one, so it too grows at its end.
 *
 * - struct vd_verdict is returned by value from callbacks and plugin
 *   functions: changing its size or layout changes the calling convention,
 *   so it bumps the SONAME (and VD_HOOK_ABI_VERSION for plugins, see
 *   verdict/hook.h). SONAME 2 added its delay_us field (delayed verdicts).
 *
 * What bumps the SONAME: removing a function, changing a function's
 *   arguments or return type, changing struct vd_verdict, reordering or
 *   resizing a field of any public struct, changing the meaning of an
 *   existing field or enum value. Versions before 1.0 have no compatibility
 *   promise across minor releases beyond the SONAME: the SONAME says it.
 */
#ifndef VERDICT_ABI_H
#define VERDICT_ABI_H

/* The SONAME's number: programs linked against libverdict.so.VD_SOVERSION. */
#define VD_SOVERSION 2

#endif
