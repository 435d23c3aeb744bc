-- rewrite_set.lua - the declarative rewrite row (scripts/bench.sh "rw-set"):
-- every UDP packet gets TTL 33 and DSCP 46 (EF), in C, no Lua.
return {
  default = "accept",
  rules = {
    { name = "ttl-dscp", proto = "udp", verdict = "accept", set = { ttl = 33, dscp = 46 } },
  },
}
