/* rule_sets.c - named address sets (`sets = { lan = { "198.18.0.0/15",
 * "@dmz" } }`): checked once for cycles and depth, then read into the rules
 * that name them (rule_values.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "rule_values.h"

/* Sets. A set's items are addresses, prefixes and "@name"s of other sets.
 * A rule's "@a" is read depth first; set_path holds the sets being read, so
 * a set met again on it is a cycle. ld->set_marks remembers the sets read
 * already: in the check (set_pass 0) with their height (how many sets deep
 * they reach, themselves included), then with the pass that read them, so a
 * rule reads each set once however many of its sets name it. */

static int set_cycle(struct loader *ld, unsigned from)
{
	char through[200] = "";
	size_t off = 0;

	for (unsigned i = from + 1; i < ld->set_depth && off < sizeof(through); i++)
		off += (size_t)snprintf(through + off, sizeof(through) - off, "%s\"%s\"",
					i > from + 1 ? ", " : "", ld->set_path[i]);
	ld->set = ld->set_path[from];
	if (!through[0])
		return vd_rule_fail(ld, "refers to itself");
	return vd_rule_fail(ld, "refers to itself through %s", through);
}

static int set_too_deep(struct loader *ld, const char *name)
{
	ld->set = ld->set_path[0];
	return vd_rule_fail(ld, "sets nest more than %d deep (through \"%s\")", VD_RULE_SET_DEPTH, name);
}

/* The mark of set `name` (0: none). */
static lua_Integer set_mark(struct loader *ld, const char *name)
{
	lua_Integer m;

	lua_pushstring(ld->L, name);
	lua_rawget(ld->L, ld->set_marks);
	m = lua_tointeger(ld->L, -1);
	lua_pop(ld->L, 1);
	return m;
}

int vd_rule_set_items(struct loader *ld, const char *name, void *arg)
{
	lua_State *L = ld->L;
	const char *outer = ld->set;
	unsigned depth = ld->set_depth, deepest = ld->set_deepest;
	lua_Integer mark;
	int ret;

	for (unsigned i = 0; i < depth; i++)
		if (strcmp(ld->set_path[i], name) == 0)
			return set_cycle(ld, i);
	if (!ld->sets)
		return vd_rule_fail(ld, "set \"@%s\" is not declared (no `sets` table)", name);
	if (!lua_checkstack(L, 8))
		return vd_rule_fail(ld, "out of memory (Lua stack)");
	mark = set_mark(ld, name);
	if (ld->set_pass == 0 && mark > 0) {
		/* Checked already, from a shallower place perhaps. */
		if (depth + (unsigned)mark > VD_RULE_SET_DEPTH)
			return set_too_deep(ld, name);
		if (depth + (unsigned)mark > ld->set_deepest)
			ld->set_deepest = depth + (unsigned)mark;
		return 0;
	}
	if (ld->set_pass > 0 && mark == ld->set_pass)
		return 0;
	if (depth == VD_RULE_SET_DEPTH)
		return set_too_deep(ld, name);
	lua_pushstring(L, name);
	if (lua_rawget(L, ld->sets) == LUA_TNIL) {
		lua_pop(L, 1);
		return vd_rule_fail(ld, "set \"@%s\" is not declared under `sets`", name);
	}
	ld->set_path[ld->set_depth++] = name;
	ld->set = name;
	ld->set_deepest = depth + 1;
	ret = vd_rule_each_item(ld, vd_rule_address_item, arg);
	lua_pop(L, 1);
	if (ret < 0)
		return -1;
	lua_pushstring(L, name);
	lua_pushinteger(L, ld->set_pass ? ld->set_pass : (lua_Integer)(ld->set_deepest - depth));
	lua_rawset(L, ld->set_marks);
	if (ld->set_deepest < deepest)
		ld->set_deepest = deepest;
	ld->set_depth = depth;
	ld->set = outer;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Pushes the names of the sets table, sorted, as an array in a userdata
 * (*names, *n): the check walks them in an order that does not depend on
 * Lua's hash seed, so a cycle's message is always the same. A userdata, not
 * malloc: a Lua memory error may unwind from any call that follows. */
static int set_names(struct loader *ld, const char ***names, size_t *n)
{
	lua_State *L = ld->L;
	size_t count = 0;

	lua_pushnil(L);
	while (lua_next(L, ld->sets)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING) {
			const char *type = luaL_typename(L, -1);

			lua_pop(L, 1);
			return vd_rule_fail(ld, "set names are strings (sets = { name = { ... } }), not %s",
					    type);
		}
		if (!vd_rule_text(ld, -1)) {
			lua_pop(L, 1);
			return -1;
		}
		count++;
	}
	*names = lua_newuserdatauv(L, (count ? count : 1) * sizeof(**names), 0);
	*n = 0;
	lua_pushnil(L);
	while (lua_next(L, ld->sets)) {
		lua_pop(L, 1);
		(*names)[(*n)++] = lua_tostring(L, -1); /* a key of the sets table: lives as long */
	}
	qsort(*names, *n, sizeof(**names), by_name);
	return 0;
}

int vd_rule_sets_check(struct loader *ld)
{
	lua_State *L = ld->L;
	const char **names = NULL;
	size_t n = 0;
	int rule_marks = ld->set_marks, ret = 0;

	if (!ld->sets)
		return 0;
	ld->key = "sets";
	if (vd_rule_plain_table(ld, ld->sets) < 0 || set_names(ld, &names, &n) < 0)
		return -1;
	ld->key = NULL;
	lua_newtable(L);
	ld->set_marks = lua_gettop(L);
	ld->set_pass = 0;
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = vd_rule_set_items(ld, names[i], NULL);
	lua_pop(L, 2);
	ld->set_marks = rule_marks;
	return ret;
}
