-- kr_bypass.lua - the kernel-rules rows' "bypass" table: the same rules, each
-- deciding its connection once; the kernel accepts the rest (scripts/bench.sh).
return {
  default = "accept",
  rules = {
    { name = "udp", proto = "udp", verdict = "accept", bypass = true },
    { name = "tcp", proto = "tcp", verdict = "accept", bypass = true },
  },
}
