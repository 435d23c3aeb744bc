/* verdict.c - names of verdicts, both ways, and the library version. */
#include <errno.h>
#include <string.h>

#include <verdict/libverdict.h>

#include "export.h"

VD_EXPORT const char *vd_verdict_kind_name(uint8_t kind)
{
	switch (kind) {
	case VD_VERDICT_ACCEPT:
		return "accept";
	case VD_VERDICT_DROP:
		return "drop";
	case VD_VERDICT_QUEUE:
		return "queue";
	case VD_VERDICT_REPEAT:
		return "repeat";
	case VD_VERDICT_REJECT:
		return "reject";
	default:
		return "unknown";
	}
}

VD_EXPORT int vd_verdict_parse(const char *name, struct vd_verdict *out)
{
	if (name && strcmp(name, "accept") == 0) {
		*out = vd_verdict_accept();
	} else if (name && strcmp(name, "drop") == 0) {
		*out = vd_verdict_drop();
	} else if (name && strcmp(name, "repeat") == 0) {
		*out = vd_verdict_repeat();
	} else if (name && strcmp(name, "reject") == 0) {
		*out = vd_verdict_reject(VD_REJECT_DEFAULT);
	} else {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

VD_EXPORT const char *vd_version(void)
{
	return VD_VERSION_STRING;
}
