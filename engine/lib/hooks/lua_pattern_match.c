/*
 * lua_pattern_match.c - the budgeted matcher behind lua_pattern.c.
 *
 * A backtracking matcher over Lua 5.4's pattern language, written for the
 * sandbox: the same items (classes %a %c %d %g %l %p %s %u %w %x %z and their
 * complements, sets, '.', the quantifiers * + - ?, anchors, captures and
 * position captures, back-references %1-%9, %b and %f), the same recursion
 * limit (200) and the same error messages as the stock library, and a step
 * count that goes to the budget every CHARGE_EVERY steps. A step that reads
 * a set ([...]) costs one more per SET_CHARS_PER_STEP characters of it: a
 * set of 40,000 characters made each step 40,000 comparisons, and ran
 * seconds past the instruction budget, to the clock.
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_budget.h"
#include "lua_pattern_match.h"

#define SET_CHARS_PER_STEP 16

static void step(struct matcher *m, unsigned n)
{
	m->steps += n;
	if (m->steps >= CHARGE_EVERY) {
		vd_lua_budget_charge(m->L, m->steps, m->what);
		m->steps = 0;
	}
}

/* What reading the class p..ep once costs, in steps. */
static unsigned class_cost(const char *p, const char *ep)
{
	return 1 + (unsigned)((size_t)(ep - p) / SET_CHARS_PER_STEP);
}

/* The end of the single-character class at p (Lua strings end with a NUL,
 * so reading *pat_end is safe). */
static const char *class_end(struct matcher *m, const char *p)
{
	if (*p == '%') {
		if (p + 1 >= m->pat_end)
			luaL_error(m->L, "malformed pattern (ends with '%%')");
		return p + 2;
	}
	if (*p++ != '[')
		return p;
	if (*p == '^')
		p++;
	do { /* the first character is in the set even if it is ']' */
		if (p >= m->pat_end)
			luaL_error(m->L, "malformed pattern (missing ']')");
		if (*p++ == '%' && p < m->pat_end)
			p++;
	} while (*p != ']');
	return p + 1;
}

static int class_match(int c, int cl)
{
	int res;

	switch (tolower(cl)) {
	case 'a': res = isalpha(c); break;
	case 'c': res = iscntrl(c); break;
	case 'd': res = isdigit(c); break;
	case 'g': res = isgraph(c); break;
	case 'l': res = islower(c); break;
	case 'p': res = ispunct(c); break;
	case 's': res = isspace(c); break;
	case 'u': res = isupper(c); break;
	case 'w': res = isalnum(c); break;
	case 'x': res = isxdigit(c); break;
	case 'z': res = c == 0; break; /* deprecated, still in 5.4 */
	default: return cl == c;
	}
	return isupper(cl) ? !res : res != 0;
}

/* p at '[', ec at the closing ']'. */
static int set_match(int c, const char *p, const char *ec)
{
	int in = 1;

	if (p[1] == '^') {
		in = 0;
		p++;
	}
	while (++p < ec) {
		if (*p == '%') {
			p++;
			if (class_match(c, (unsigned char)*p))
				return in;
		} else if (p[1] == '-' && p + 2 < ec) {
			p += 2;
			if ((unsigned char)p[-2] <= c && c <= (unsigned char)*p)
				return in;
		} else if ((unsigned char)*p == c) {
			return in;
		}
	}
	return !in;
}

static int single_match(const struct matcher *m, const char *s, const char *p, const char *ep)
{
	int c;

	if (s >= m->src_end)
		return 0;
	c = (unsigned char)*s;
	switch (*p) {
	case '.': return 1;
	case '%': return class_match(c, (unsigned char)p[1]);
	case '[': return set_match(c, p, ep - 1);
	default: return (unsigned char)*p == c;
	}
}

static const char *match(struct matcher *m, const char *s, const char *p);

static const char *max_expand(struct matcher *m, const char *s, const char *p, const char *ep)
{
	ptrdiff_t i = 0;
	unsigned cost = class_cost(p, ep);

	while (single_match(m, s + i, p, ep)) {
		i++;
		step(m, cost);
	}
	for (; i >= 0; i--) {
		const char *r = match(m, s + i, ep + 1);

		if (r)
			return r;
	}
	return NULL;
}

static const char *min_expand(struct matcher *m, const char *s, const char *p, const char *ep)
{
	unsigned cost = class_cost(p, ep) - 1; /* match() charged the 1 */

	for (;;) {
		const char *r = match(m, s, ep + 1);

		if (r)
			return r;
		step(m, cost);
		if (!single_match(m, s, p, ep))
			return NULL;
		s++;
	}
}

static const char *capture_open(struct matcher *m, const char *s, const char *p, ptrdiff_t what)
{
	const char *r;

	if (m->level >= MAX_CAPTURES)
		luaL_error(m->L, "too many captures");
	m->cap[m->level].init = s;
	m->cap[m->level].len = what;
	m->level++;
	if (!(r = match(m, s, p)))
		m->level--;
	return r;
}

static const char *capture_close(struct matcher *m, const char *s, const char *p)
{
	int l = m->level - 1;
	const char *r;

	while (l >= 0 && m->cap[l].len != CAP_UNFINISHED)
		l--;
	if (l < 0)
		luaL_error(m->L, "invalid pattern capture");
	m->cap[l].len = s - m->cap[l].init;
	if (!(r = match(m, s, p)))
		m->cap[l].len = CAP_UNFINISHED;
	return r;
}

static const char *balance(struct matcher *m, const char *s, const char *p)
{
	int depth = 1;

	if (p + 1 >= m->pat_end)
		luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
	if (s >= m->src_end || *s != p[0])
		return NULL;
	while (++s < m->src_end) {
		step(m, 1);
		if (*s == p[1]) {
			if (--depth == 0)
				return s + 1;
		} else if (*s == p[0]) {
			depth++;
		}
	}
	return NULL;
}

static const char *back_reference(struct matcher *m, const char *s, int digit)
{
	int l = digit - '1';
	size_t len;

	if (l < 0 || l >= m->level || m->cap[l].len == CAP_UNFINISHED)
		luaL_error(m->L, "invalid capture index %%%d", l + 1);
	len = (size_t)m->cap[l].len;
	step(m, (unsigned)(len / 32));
	if ((size_t)(m->src_end - s) >= len && memcmp(m->cap[l].init, s, len) == 0)
		return s + len;
	return NULL;
}

static const char *frontier(struct matcher *m, const char *s, const char **p)
{
	const char *ep;
	int prev, cur;

	if (**p != '[')
		luaL_error(m->L, "missing '[' after '%%f' in pattern");
	ep = class_end(m, *p);
	step(m, class_cost(*p, ep) - 1);
	prev = s == m->src ? '\0' : (unsigned char)s[-1];
	cur = s < m->src_end ? (unsigned char)*s : '\0';
	if (set_match(prev, *p, ep - 1) || !set_match(cur, *p, ep - 1))
		return NULL;
	*p = ep;
	return s;
}

/* One item with its quantifier; loops (instead of recursing) where the
 * rest of the pattern simply follows. */
static const char *match(struct matcher *m, const char *s, const char *p)
{
	const char *ep;

	if (m->depth-- == 0)
		luaL_error(m->L, "pattern too complex");
	while (s && p < m->pat_end) {
		step(m, 1);
		if (*p == '(') {
			s = p[1] == ')' ? capture_open(m, s, p + 2, CAP_POSITION)
					: capture_open(m, s, p + 1, CAP_UNFINISHED);
			break;
		}
		if (*p == ')') {
			s = capture_close(m, s, p + 1);
			break;
		}
		if (*p == '$' && p + 1 == m->pat_end) {
			s = s == m->src_end ? s : NULL;
			break;
		}
		if (*p == '%' && p[1] == 'b') {
			if ((s = balance(m, s, p + 2)))
				p += 4;
			continue;
		}
		if (*p == '%' && p[1] == 'f') {
			p += 2;
			s = frontier(m, s, &p);
			continue;
		}
		if (*p == '%' && isdigit((unsigned char)p[1])) {
			if ((s = back_reference(m, s, (unsigned char)p[1])))
				p += 2;
			continue;
		}
		ep = class_end(m, p);
		step(m, class_cost(p, ep) - 1); /* the loop charged the 1 */
		if (!single_match(m, s, p, ep)) {
			if (*ep == '*' || *ep == '?' || *ep == '-')
				p = ep + 1; /* zero repetitions are fine */
			else
				s = NULL;
			continue;
		}
		switch (*ep) {
		case '?': {
			const char *r = match(m, s + 1, ep + 1);

			if (r) {
				s = r;
				goto done;
			}
			p = ep + 1;
			continue;
		}
		case '+': s = max_expand(m, s + 1, p, ep); goto done;
		case '*': s = max_expand(m, s, p, ep); goto done;
		case '-': s = min_expand(m, s, p, ep); goto done;
		default: s++; p = ep; continue;
		}
	}
done:
	m->depth++;
	return s;
}

const char *vd_pattern_match(struct matcher *m, const char *s, const char *p)
{
	return match(m, s, p);
}
