/* rule_rewrite.c - a rule's `set = { ... }`: read, checked, applied,
 * printed (rule_rewrite.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#include <verdict/packet.h>

#include "rule_rewrite.h"
#include "rule_values.h"

/* --- reading --- */

struct named_value {
	const char *name;
	uint8_t value;
};

/* RFC 4594's class selectors and per-hop behaviours, RFC 5865's voice
 * admit, RFC 8622's lower effort. */
static const struct named_value dscp_names[] = {
	{ "cs0", 0 }, { "cs1", 8 }, { "cs2", 16 }, { "cs3", 24 }, { "cs4", 32 }, { "cs5", 40 },
	{ "cs6", 48 }, { "cs7", 56 }, { "af11", 10 }, { "af12", 12 }, { "af13", 14 },
	{ "af21", 18 }, { "af22", 20 }, { "af23", 22 }, { "af31", 26 }, { "af32", 28 },
	{ "af33", 30 }, { "af41", 34 }, { "af42", 36 }, { "af43", 38 }, { "ef", 46 },
	{ "va", 44 }, { "le", 1 },
};

/* RFC 3168's codepoints, as tc and nft name them. */
static const struct named_value ecn_names[] = {
	{ "not-ect", 0 }, { "ect1", 1 }, { "ect0", 2 }, { "ce", 3 },
};

/* A number in [0, max], or one of n names (any case); what lists them for
 * the message. */
static int read_named(struct loader *ld, const struct named_value *names, size_t n, uint8_t max,
		      const char *what, const char *list, uint8_t *out)
{
	uint64_t v;
	const char *s;

	if (lua_type(ld->L, -1) == LUA_TSTRING) {
		if (!(s = vd_rule_text(ld, -1)))
			return -1;
		for (size_t i = 0; i < n; i++)
			if (strcasecmp(s, names[i].name) == 0) {
				*out = names[i].value;
				return 0;
			}
		return vd_rule_fail(ld, "unknown %s name \"%s\" (%s)", what, s, list);
	}
	if (vd_rule_read_uint(ld, 0, max, &v) < 0)
		return -1;
	*out = (uint8_t)v;
	return 0;
}

/* One address, no prefix: the rewrite writes exactly these bytes. */
static int read_address(struct loader *ld, uint8_t *addr, uint8_t *version)
{
	const char *s;

	if (lua_type(ld->L, -1) != LUA_TSTRING)
		return vd_rule_fail(ld, "expected an address string, got %s", luaL_typename(ld->L, -1));
	if (!(s = vd_rule_text(ld, -1)))
		return -1;
	if (inet_pton(AF_INET, s, addr) == 1)
		*version = 4;
	else if (inet_pton(AF_INET6, s, addr) == 1)
		*version = 6;
	else
		return vd_rule_fail(ld, "\"%s\" is not an IPv4 or IPv6 address", s);
	return 0;
}

static int read_u16(struct loader *ld, uint64_t min, uint16_t *out)
{
	uint64_t v;

	if (vd_rule_read_uint(ld, min, 65535, &v) < 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* The value of key k at the top of the stack into set; 1 for a key that is
 * not one of set's. */
static int read_key(struct loader *ld, struct vd_rule_rewrite *set, const char *k, uint32_t *field)
{
	uint64_t v;
	uint8_t mask, value;

	if (strcmp(k, "ttl") == 0) {
		*field = VD_EDIT_TTL;
		if (vd_rule_read_uint(ld, 0, 255, &v) < 0)
			return -1;
		set->ttl = (uint8_t)v;
		return 0;
	}
	if (strcmp(k, "dscp") == 0)
		return *field = VD_EDIT_DSCP,
		       read_named(ld, dscp_names, sizeof(dscp_names) / sizeof(dscp_names[0]), 63,
				  "DSCP", "0-63, cs0-cs7, af11-af43, ef, va, le", &set->dscp);
	if (strcmp(k, "ecn") == 0)
		return *field = VD_EDIT_ECN,
		       read_named(ld, ecn_names, sizeof(ecn_names) / sizeof(ecn_names[0]), 3, "ECN",
				  "0-3, not-ect, ect1, ect0, ce", &set->ecn);
	if (strcmp(k, "src") == 0)
		return *field = VD_EDIT_SRC, read_address(ld, set->src, &set->src_version);
	if (strcmp(k, "dst") == 0)
		return *field = VD_EDIT_DST, read_address(ld, set->dst, &set->dst_version);
	if (strcmp(k, "sport") == 0)
		return *field = VD_EDIT_SPORT, read_u16(ld, 0, &set->sport);
	if (strcmp(k, "dport") == 0)
		return *field = VD_EDIT_DPORT, read_u16(ld, 0, &set->dport);
	if (strcmp(k, "mss") == 0)
		return *field = VD_EDIT_MSS, read_u16(ld, 1, &set->mss);
	if (strcmp(k, "tcp_flags") == 0) {
		/* The match's syntax: listed flags are set, "!" ones cleared. */
		*field = VD_EDIT_TCP_FLAGS;
		if (vd_rule_read_tcp_flags(ld, &mask, &value) < 0)
			return -1;
		set->tcp_set = value;
		set->tcp_clear = (uint8_t)(mask & ~value);
		return 0;
	}
	if (strcmp(k, "df") == 0) {
		*field = VD_EDIT_DF;
		if (!lua_isboolean(ld->L, -1))
			return vd_rule_fail(ld, "expected true or false");
		set->df = lua_toboolean(ld->L, -1);
		return 0;
	}
	return vd_rule_fail(ld, "unknown key (ttl, dscp, ecn, src, dst, sport, dport, tcp_flags, mss, "
			    "df)");
}

int vd_rule_rewrite_read(struct loader *ld, struct vd_rule_rewrite *set)
{
	lua_State *L = ld->L;
	const char *outer = ld->key;
	char key[48];

	if (!lua_istable(L, -1))
		return vd_rule_fail(ld, "expected a table like { ttl = 64, dscp = \"ef\" }, got %s",
				    luaL_typename(L, -1));
	if (vd_rule_plain_table(ld, -1) < 0)
		return -1;
	memset(set, 0, sizeof(*set));
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		const char *k;
		uint32_t field = 0;
		int ret;

		if (lua_type(L, -2) != LUA_TSTRING) {
			const char *type = luaL_typename(L, -2);

			lua_pop(L, 2);
			return vd_rule_fail(ld, "keys must be names, not %s", type);
		}
		if (!(k = vd_rule_text(ld, -2))) {
			lua_pop(L, 2);
			return -1;
		}
		/* Messages name "set.ttl": "ttl" alone could be a match key. */
		snprintf(key, sizeof(key), "set.%.40s", k);
		ld->key = key;
		ret = read_key(ld, set, k, &field);
		ld->key = outer;
		lua_pop(L, 1);
		if (ret < 0) {
			lua_pop(L, 1);
			return -1;
		}
		set->fields |= field;
	}
	if (set->fields == 0)
		return vd_rule_fail(ld, "is empty: leave the key out instead");
	return 0;
}

/* --- checks shared by the loader and --check --- */

/* 4 or 6 when every src and dst prefix of r is of that family (IPv4 lives in
 * ::ffff:0:0/96 of the shared key space, rule.h); 0 when either may match. */
static int rule_family(const struct vd_rule *r)
{
	const vd_key lo4 = (vd_key)0xffff << 32, hi4 = lo4 | 0xffffffffu;
	int family = 0;

	for (int d = VD_DIM_SRC; d <= VD_DIM_DST; d++)
		for (size_t i = 0; i < r->dim[d].nranges; i++) {
			const struct vd_key_range *k = &r->dim[d].ranges[i];
			int f = k->lo >= lo4 && k->hi <= hi4 ? 4 : (k->hi < lo4 || k->lo > hi4) ? 6 : 0;

			if (f == 0 || (family && f != family))
				return 0;
			family = f;
		}
	return family;
}

static const char *address_text(uint8_t version, const uint8_t *addr, char *buf, size_t size)
{
	return inet_ntop(version == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)size);
}

int vd_rule_rewrite_check(struct loader *ld, const struct vd_rule *r)
{
	const struct vd_rule_rewrite *s = &r->set;
	int family = rule_family(r);
	char text[INET6_ADDRSTRLEN];

	if (s->fields & VD_EDIT_SRC && family && s->src_version != family) {
		ld->key = "set.src";
		return vd_rule_fail(ld, "\"%s\" is IPv%u, but the rule matches IPv%d packets only (src, dst)",
				    address_text(s->src_version, s->src, text, sizeof(text)),
				    s->src_version, family);
	}
	if (!(s->fields & VD_EDIT_DST))
		return 0;
	ld->key = "set.dst";
	address_text(s->dst_version, s->dst, text, sizeof(text));
	if (family && s->dst_version != family)
		return vd_rule_fail(ld, "\"%s\" is IPv%u, but the rule matches IPv%d packets only (src, dst)",
				    text, s->dst_version, family);
	if (s->fields & VD_EDIT_SRC && s->src_version != s->dst_version)
		return vd_rule_fail(ld, "\"%s\" is IPv%u, but set.src is IPv%u", text, s->dst_version,
				    s->src_version);
	ld->key = NULL;
	return 0;
}

/* --- applying (hot path) --- */

int vd_rule_rewrite_apply(const struct vd_rule_rewrite *s, struct vd_packet_edit *edit)
{
	uint32_t f = s->fields;
	int err = 0;

	/* Each call is skipped unless its key was given; the first refusal
	 * ends it (err stays the refusal for the rest). */
	if (f & VD_EDIT_SRC)
		err = vd_packet_edit_set_src(edit, s->src_version, s->src);
	if (!err && (f & VD_EDIT_DST))
		err = vd_packet_edit_set_dst(edit, s->dst_version, s->dst);
	if (!err && (f & VD_EDIT_SPORT))
		err = vd_packet_edit_set_sport(edit, s->sport);
	if (!err && (f & VD_EDIT_DPORT))
		err = vd_packet_edit_set_dport(edit, s->dport);
	if (!err && (f & VD_EDIT_TTL))
		err = vd_packet_edit_set_ttl(edit, s->ttl);
	if (!err && (f & VD_EDIT_DSCP))
		err = vd_packet_edit_set_dscp(edit, s->dscp);
	if (!err && (f & VD_EDIT_ECN))
		err = vd_packet_edit_set_ecn(edit, s->ecn);
	if (!err && (f & VD_EDIT_DF))
		err = vd_packet_edit_set_df(edit, s->df);
	if (!err && (f & VD_EDIT_TCP_FLAGS))
		err = vd_packet_edit_set_tcp_flags(edit, s->tcp_set, s->tcp_clear);
	if (!err && (f & VD_EDIT_MSS))
		err = vd_packet_edit_clamp_mss(edit, s->mss);
	return err;
}

/* --- --check --- */

static void print_tcp_flags(const struct vd_rule_rewrite *s, FILE *out)
{
	const char *sep = "";

	fputs(" tcp_flags=", out);
	for (unsigned b = 0; b < 8; b++)
		if ((s->tcp_set | s->tcp_clear) & (1u << b)) {
			fprintf(out, "%s%s%s", sep, (s->tcp_clear & (1u << b)) ? "!" : "",
				vd_tcp_flag_name(b));
			sep = ",";
		}
}

void vd_rule_rewrite_print(const struct vd_rule_rewrite *s, FILE *out)
{
	uint32_t f = s->fields;
	char text[INET6_ADDRSTRLEN];

	if (f & VD_EDIT_SRC)
		fprintf(out, " src=%s", address_text(s->src_version, s->src, text, sizeof(text)));
	if (f & VD_EDIT_DST)
		fprintf(out, " dst=%s", address_text(s->dst_version, s->dst, text, sizeof(text)));
	if (f & VD_EDIT_SPORT)
		fprintf(out, " sport=%u", s->sport);
	if (f & VD_EDIT_DPORT)
		fprintf(out, " dport=%u", s->dport);
	if (f & VD_EDIT_TTL)
		fprintf(out, " ttl=%u", s->ttl);
	if (f & VD_EDIT_DSCP)
		fprintf(out, " dscp=%u", s->dscp);
	if (f & VD_EDIT_ECN)
		fprintf(out, " ecn=%u", s->ecn);
	if (f & VD_EDIT_DF)
		fprintf(out, " df=%s", s->df ? "true" : "false");
	if (f & VD_EDIT_TCP_FLAGS)
		print_tcp_flags(s, out);
	if (f & VD_EDIT_MSS)
		fprintf(out, " mss=%u", s->mss);
}

/* Warns when r's proto match takes in protocols the key is refused on:
 * those neither in allowed (a bit per protocol number below 64) nor equal
 * to special, or when only is set, special alone. An unconstrained proto
 * is not warned about. */
static void warn_protos(const struct vd_rule *r, const char *key, uint64_t allowed, unsigned special,
			bool only, const char *why, FILE *out)
{
	const struct vd_rule_dim_spec *d = &r->dim[VD_DIM_PROTO];
	unsigned listed = 0;

	for (size_t i = 0; i < d->nranges && listed <= 4; i++)
		for (vd_key p = d->ranges[i].lo; p <= d->ranges[i].hi && p < 256 && listed <= 4; p++) {
			const char *name = vd_proto_name((uint8_t)p);

			if (only ? p != special : (p < 64 && (allowed >> p) & 1) || p == special)
				continue;
			if (listed++ == 0)
				fprintf(out, "warning: rule %u \"%s\": set.%s is refused on ", r->index,
					r->name, key);
			if (listed > 4)
				fputs(", ...", out);
			else if (name)
				fprintf(out, "%s%s", listed > 1 ? ", " : "", name);
			else
				fprintf(out, "%sproto %u", listed > 1 ? ", " : "", (unsigned)p);
		}
	if (listed)
		fprintf(out, " packets (%s)\n", why);
}

void vd_rule_rewrite_warn(const struct vd_rule *r, FILE *out)
{
	static const uint64_t tcp = 1ull << IPPROTO_TCP, udp = 1ull << IPPROTO_UDP;
	const struct vd_rule_rewrite *s = &r->set;
	static const struct { uint32_t field; const char *key; } ports[] = {
		{ VD_EDIT_SPORT, "sport" }, { VD_EDIT_DPORT, "dport" } }, tcp_only[] = {
		{ VD_EDIT_TCP_FLAGS, "tcp_flags" }, { VD_EDIT_MSS, "mss" } };

	if (!s->fields)
		return;
	for (size_t i = 0; i < 2; i++) {
		if (s->fields & ports[i].field) {
			warn_protos(r, ports[i].key, tcp | udp, IPPROTO_SCTP, false, "tcp and udp only",
				    out);
			warn_protos(r, ports[i].key, 0, IPPROTO_SCTP, true,
				    "its CRC32c is not recomputed", out);
		}
		if (s->fields & tcp_only[i].field)
			warn_protos(r, tcp_only[i].key, tcp, 256, false, "TCP only", out);
	}
	if ((s->fields & VD_EDIT_DF) && rule_family(r) == 6)
		fprintf(out, "warning: rule %u \"%s\": set.df is refused: the rule matches IPv6 packets "
			"only (no DF bit)\n", r->index, r->name);
	if (r->action == VD_ACTION_VERDICT && r->verdict.kind == VD_VERDICT_DROP)
		fprintf(out, "warning: rule %u \"%s\": set is never applied: the verdict is drop\n",
			r->index, r->name);
}
