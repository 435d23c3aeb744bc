/*
 * export.h - marking what libverdict exports, and copying the structs whose
 * size the caller passes (verdict/abi.h).
 *
 * The library is compiled with -fvisibility=hidden: only definitions marked
 * VD_EXPORT are visible, and libverdict.map then assigns each its version
 * node. A function missing either is not part of the ABI.
 */
#ifndef VD_EXPORT_H
#define VD_EXPORT_H

#include <stddef.h>

#define VD_EXPORT __attribute__((visibility("default")))

/* Copies a caller's struct of src_size bytes into the library's dst of
 * dst_size: fields the caller's version lacks become zero. Returns 0, or -1
 * with errno EINVAL when the caller's struct is larger and a byte past
 * dst_size is not zero (a field this library does not know was set). */
int vd_abi_copy_in(void *dst, size_t dst_size, const void *src, size_t src_size);

/* Fills a caller's struct of dst_size bytes from the library's src of
 * src_size: what the caller's version lacks is left out, what it has beyond
 * src is zeroed. */
void vd_abi_copy_out(void *dst, size_t dst_size, const void *src, size_t src_size);

#endif
