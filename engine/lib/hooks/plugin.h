/*
 * plugin.h - loads a C plugin (verdict/hook.h) for one rule: finds the file,
 * dlopens it, checks its hook ABI and resolves its functions.
 *
 * Called on the thread that loads a rule table, never on a worker. The
 * handle is owned by the caller's struct vd_plugin_hook and released with
 * vd_plugin_hook_unload after every state made by its init is finalized.
 */
#ifndef VD_PLUGIN_H
#define VD_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>

#include <verdict/edit.h>
#include <verdict/hook.h>

struct vd_plugin_hook {
	/* Exactly one is set once loaded: eval for a hook ABI 2 plugin,
	 * eval_v1 for one built for hook ABI 1. */
	vd_hook_eval_fn eval;
	vd_hook_eval_v1_fn eval_v1;
	vd_hook_init_fn init; /* NULL when the plugin has none */
	vd_hook_fini_fn fini; /* NULL when the plugin has none */
	void *dl;             /* the dlopen handle */
};

/* Loads path and resolves symbol (and its _init/_fini, see hook.h) into out.
 *
 * The file is path itself when path is absolute; else base_dir/path when
 * base_dir (the rules file's directory) is not NULL and that file exists;
 * else DIR/path for the first DIR of search_path (colon-separated, empty
 * entries skipped; may be NULL) where it exists. Never relative to the
 * current directory (unless base_dir says so). It is opened with
 * dlopen(RTLD_NOW | RTLD_LOCAL).
 *
 * Returns 0; or -1 with out zeroed and one line in err (errlen bytes) that
 * starts with the file: not found (naming the directories looked in), the dlopen
 * error, "not a libverdict hook plugin: no vd_hook_abi_version symbol",
 * "built for hook ABI 7, this libverdict has 2 (and still loads 1): rebuild
 * it against include/verdict/hook.h", or a missing symbol. */
int vd_plugin_hook_load(const char *path, const char *symbol, const char *base_dir,
			const char *search_path, struct vd_plugin_hook *out, char *err,
			size_t errlen);

/* Whether a plugin's verdict sends its edits: accept, repeat or queue, with
 * no flag verdict.h does not know. Anything else is a drop or a hook error
 * (the rule table then uses on_error). */
static inline bool vd_plugin_verdict_keeps_edits(struct vd_verdict v)
{
	return (v.kind == VD_VERDICT_ACCEPT || v.kind == VD_VERDICT_REPEAT ||
		v.kind == VD_VERDICT_QUEUE) &&
	       (v.flags & ~(VD_VERDICT_F_MARK | VD_VERDICT_F_BYPASS)) == 0;
}

/* Calls the plugin's eval for pkt. edit (may be NULL; its view is pkt) is
 * handed to hook ABI 2 plugins, whose edits are discarded unless the
 * verdict keeps them; a hook ABI 1 plugin is called as it was built to be
 * and cannot edit. Hot path: a branch and a compare around the call. */
static inline struct vd_verdict vd_plugin_hook_eval(const struct vd_plugin_hook *h,
						    const struct vd_packet *pkt,
						    struct vd_packet_edit *edit, void *state)
{
	struct vd_verdict v;

	if (h->eval_v1) {
		struct vd_verdict_v1 v1 = h->eval_v1(pkt, state);

		return (struct vd_verdict){ .kind = v1.kind, .flags = v1.flags, .queue = v1.queue,
					    .mark = v1.mark, .mark_mask = v1.mark_mask };
	}
	v = h->eval(pkt, edit, state);
	if (edit && !vd_plugin_verdict_keeps_edits(v))
		vd_packet_edit_discard(edit);
	return v;
}

/* dlcloses h and zeroes it. Safe on a zeroed struct and twice in a row. */
void vd_plugin_hook_unload(struct vd_plugin_hook *h);

#endif
