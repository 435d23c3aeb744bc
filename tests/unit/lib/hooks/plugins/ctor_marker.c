/*
 * ctor_marker.c - a plugin whose constructor leaves a mark: it creates the
 * file named by VD_TEST_CTOR_MARK. A loader that refuses the plugin before
 * mapping it leaves no mark (test_file_trust.c).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <verdict/hook.h>

VD_HOOK_PLUGIN_DECLARE();

VD_HOOK_EVAL(marker_eval);

__attribute__((constructor)) static void leave_mark(void)
{
	const char *path = getenv("VD_TEST_CTOR_MARK");
	int fd = path ? open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) : -1;

	if (fd >= 0)
		close(fd);
}

struct vd_verdict marker_eval(const struct vd_packet *pkt, struct vd_packet_edit *edit,
			      void *state)
{
	(void)pkt;
	(void)state;
	return vd_verdict_accept();
}
