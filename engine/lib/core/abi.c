/* abi.c - struct copies across library versions (export.h, verdict/abi.h). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "export.h"

int vd_abi_copy_in(void *dst, size_t dst_size, const void *src, size_t src_size)
{
	const uint8_t *extra = (const uint8_t *)src + dst_size;

	memset(dst, 0, dst_size);
	memcpy(dst, src, src_size < dst_size ? src_size : dst_size);
	for (size_t i = dst_size; i < src_size; i++, extra++)
		if (*extra) {
			errno = EINVAL;
			return -1;
		}
	return 0;
}

void vd_abi_copy_out(void *dst, size_t dst_size, const void *src, size_t src_size)
{
	size_t n = src_size < dst_size ? src_size : dst_size;

	memcpy(dst, src, n);
	if (dst_size > n)
		memset((uint8_t *)dst + n, 0, dst_size - n);
}
