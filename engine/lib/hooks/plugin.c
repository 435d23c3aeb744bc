/*
 * plugin.c - loads a rule's C plugin: finds the file, dlopens it, refuses it
 * unless its hook ABI is ours or version 1, and resolves its eval/init/fini.
 *
 * Runs on the table-loading thread only; dlerror() is per thread in glibc,
 * so concurrent loads in other threads cannot garble the messages.
 */
#define _GNU_SOURCE /* dlinfo, dladdr1 */
#include "file_trust.h"
#include "plugin.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The directories a relative path was looked for in, for the "not found"
 * message. */
struct plugin_tried {
	char text[1024];
	size_t len;
};

static void tried_add(struct plugin_tried *t, const char *dir, size_t dirlen)
{
	int n;

	if (t->len >= sizeof(t->text))
		return;
	n = snprintf(t->text + t->len, sizeof(t->text) - t->len, "%s%.*s", t->len ? ", " : "",
		     (int)dirlen, dir);
	t->len = n < 0 ? sizeof(t->text) : t->len + (size_t)n;
}

/* A directory of the same name must not stop the search: dlopen would only
 * fail on it with a less helpful message. */
static bool is_file(const char *file)
{
	struct stat st;

	return stat(file, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* Writes dir/path to file and says whether such a file exists. dir need not
 * be NUL-terminated at dirlen. */
static bool candidate(char *file, size_t size, const char *dir, size_t dirlen, const char *path,
		      struct plugin_tried *t)
{
	int n = snprintf(file, size, "%.*s/%s", (int)dirlen, dir, path);

	tried_add(t, dir, dirlen);
	return n >= 0 && (size_t)n < size && is_file(file);
}

static bool search_dirs(char *file, size_t size, const char *dirs, const char *path,
			struct plugin_tried *t)
{
	while (dirs && *dirs) {
		size_t n = strcspn(dirs, ":");

		if (n > 0 && candidate(file, size, dirs, n, path, t))
			return true;
		dirs += n + (dirs[n] == ':');
	}
	return false;
}

/* Puts the file to dlopen in file: an absolute path as it is; a relative one
 * in the rules file's directory, then in each search_path directory. Never
 * in the current directory: a daemon that may run as root must not load
 * whatever sits where it was started. A relative base_dir keeps its "./":
 * without a slash dlopen would search LD_LIBRARY_PATH and the system
 * directories. */
static int plugin_find(const char *path, const char *base_dir, const char *search_path,
		       char *file, size_t size, char *err, size_t errlen)
{
	struct plugin_tried t = { .len = 0 };
	int n;

	if (!path || !*path) {
		snprintf(err, errlen, "empty plugin path");
		return -1;
	}
	if (path[0] == '/') {
		n = snprintf(file, size, "%s", path);
		if (n >= 0 && (size_t)n < size && is_file(file))
			return 0;
		snprintf(err, errlen, "%s: not found (looked for %s)", path, path);
		return -1;
	}
	if ((base_dir && candidate(file, size, base_dir, strlen(base_dir), path, &t)) ||
	    search_dirs(file, size, search_path, path, &t))
		return 0;
	snprintf(err, errlen,
		 "%s: not found in %s (looked for beside the rules file, then in the plugin "
		 "search path; not in the current directory)",
		 path, t.len ? t.text : "any directory (no rules file directory, no plugin search path)");
	return -1;
}

/* dlsym on a handle also searches the libraries the plugin links, so a
 * symbol named like a libc function would resolve there; only the plugin's
 * own definitions count. Returns NULL when absent, with *elsewhere set to the
 * object that does define it, if any. */
static void *plugin_sym(void *dl, const char *name, const char **elsewhere)
{
	struct link_map *own = NULL, *where = NULL;
	Dl_info info;
	void *p = dlsym(dl, name);

	*elsewhere = NULL;
	if (!p || dlinfo(dl, RTLD_DI_LINKMAP, &own) != 0)
		return NULL;
	if (!dladdr1(p, &info, (void **)&where, RTLD_DL_LINKMAP) || where != own) {
		*elsewhere = info.dli_fname ? info.dli_fname : "another object";
		return NULL;
	}
	return p;
}

/* The plugin's hook ABI, 1 or VD_HOOK_ABI_VERSION; -1 when it has none of
 * those. Version 1 differs only in eval's signature (no edit). */
static int check_abi(void *dl, const char *file, char *err, size_t errlen)
{
	const char *elsewhere;
	const uint32_t *abi = plugin_sym(dl, VD_HOOK_ABI_SYMBOL, &elsewhere);

	if (!abi) {
		snprintf(err, errlen, "%s: not a libverdict hook plugin: no " VD_HOOK_ABI_SYMBOL " symbol",
			 file);
		return -1;
	}
	if (*abi != VD_HOOK_ABI_VERSION && *abi != 1) {
		snprintf(err, errlen,
			 "%s: built for hook ABI %u, this libverdict has %u (and still loads 1): "
			 "rebuild it against include/verdict/hook.h",
			 file, (unsigned)*abi, (unsigned)VD_HOOK_ABI_VERSION);
		return -1;
	}
	return (int)*abi;
}

/* "x_eval" -> "x_init"; "x" -> "x_init" (suffix is "_init" or "_fini"). */
static bool hook_name(char *buf, size_t size, const char *symbol, const char *suffix)
{
	size_t n = strlen(symbol);
	size_t stem = n > 5 && strcmp(symbol + n - 5, "_eval") == 0 ? n - 5 : n;
	int w = snprintf(buf, size, "%.*s%s", (int)stem, symbol, suffix);

	return w >= 0 && (size_t)w < size;
}

static int resolve_hooks(void *dl, const char *file, const char *symbol, int abi,
			 struct vd_plugin_hook *h, char *err, size_t errlen)
{
	char init_name[256], fini_name[256];
	const char *elsewhere;
	void *eval;

	if (!symbol || !*symbol || !hook_name(init_name, sizeof(init_name), symbol, "_init") ||
	    !hook_name(fini_name, sizeof(fini_name), symbol, "_fini")) {
		snprintf(err, errlen, "%s: bad symbol name \"%.64s\"", file, symbol ? symbol : "");
		return -1;
	}
	eval = plugin_sym(dl, symbol, &elsewhere);
	if (!eval) {
		if (elsewhere)
			snprintf(err, errlen, "%s: symbol \"%s\" is not defined in the plugin (only in %s)",
				 file, symbol, elsewhere);
		else
			snprintf(err, errlen, "%s: no symbol \"%s\"", file, symbol);
		return -1;
	}
	if (abi == 1)
		h->eval_v1 = (vd_hook_eval_v1_fn)eval;
	else
		h->eval = (vd_hook_eval_fn)eval;
	h->init = (vd_hook_init_fn)plugin_sym(dl, init_name, &elsewhere);
	h->fini = (vd_hook_fini_fn)plugin_sym(dl, fini_name, &elsewhere);
	return 0;
}

int vd_plugin_hook_load(const char *path, const char *symbol, const char *base_dir,
			const char *search_path, struct vd_plugin_hook *out, char *err,
			size_t errlen)
{
	char file[PATH_MAX];
	struct vd_plugin_hook h = { .dl = NULL };
	int abi;

	memset(out, 0, sizeof(*out));
	if (plugin_find(path, base_dir, search_path, file, sizeof(file), err, errlen) < 0)
		return -1;
	/* Before dlopen: its constructors run as soon as it is mapped. */
	if (vd_file_trust_check(file, "plugin", err, errlen) < 0)
		return -1;
	h.dl = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (!h.dl) {
		const char *why = dlerror();

		/* dlerror's text names the file already */
		snprintf(err, errlen, "%s", why ? why : "dlopen failed");
		return -1;
	}
	abi = check_abi(h.dl, file, err, errlen);
	if (abi < 0 || resolve_hooks(h.dl, file, symbol, abi, &h, err, errlen) < 0) {
		dlclose(h.dl);
		return -1;
	}
	*out = h;
	return 0;
}

void vd_plugin_hook_unload(struct vd_plugin_hook *h)
{
	if (h->dl)
		dlclose(h->dl);
	memset(h, 0, sizeof(*h));
}
