-- rewrite.lua - declarative rewrites with `set` (verdictd --check rules/rewrite.lua).
-- A rule's `set` is applied, in C, when its verdict (or its hook's) is
-- accept, repeat or queue; checksums and lengths are fixed by the library.
-- A rewrite the packet cannot take (no such field, a fragment, ...) gives
-- the rule's on_error: by default its own verdict, the packet unchanged,
-- counted as the rule's rewrite_errors.
return {
  default = "accept",
  rules = {
    -- The classic MSS clamp: SYNs leaving through a tunnel with a 1400-byte MTU.
    { name = "mss-clamp", proto = "tcp", tcp_flags = "syn", verdict = "accept",
      set = { mss = 1360 } },
    -- DSCP marking: voice to EF, bulk backups to lower effort; ECN untouched.
    { name = "voice-ef", proto = "udp", dport = "16384-32767",
      verdict = "accept", set = { dscp = "ef" } },
    { name = "backup-le", proto = "tcp", dport = 873, verdict = "accept", set = { dscp = "le" } },
    -- Redirect a port and lower the TTL, IPv4 only; a refusal drops instead.
    { name = "redirect", proto = "tcp", dst = "198.18.0.10", dport = 8080,
      verdict = "accept", on_error = "drop",
      set = { dst = "198.18.0.11", dport = 80, ttl = 16, df = true } },
    -- After a hook: the hook decides, the set applies when it lets the packet on.
    { name = "tagged-dns", proto = "udp", dport = 53,
      lua = function(pkt) if pkt.len > 1232 then return "drop" end return "accept" end,
      set = { dscp = "cs2", ecn = "not-ect" } },
  },
}
