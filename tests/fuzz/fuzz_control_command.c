/*
 * fuzz_control_command.c - the control protocol's command parser
 * (engine/daemon/control_command.c) over arbitrary bytes. Invariants: it
 * accepts exactly the commands vd_control_command_name spells (with an
 * optional final "\r"), never a line holding a byte that is not printable
 * ASCII, and an error message is one line of text that ends inside the
 * buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "control_command.h"
#include "fuzz_view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum vd_control_command cmd;
	char err[256];
	size_t n = size;
	int ret;

	memset(err, 'x', sizeof(err));
	ret = vd_control_command_parse((const char *)data, size, &cmd, err, sizeof(err));
	if (ret == 0) {
		const char *name = vd_control_command_name(cmd);

		if (n > 0 && data[n - 1] == '\r')
			n--;
		FUZZ_CHECK(strlen(name) == n && memcmp(name, data, n) == 0);
		return 0;
	}
	FUZZ_CHECK(ret == -1);
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	for (const char *p = err; *p; p++)
		FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
	return 0;
}
