-- kr_accept.lua - the kernel-rules rows' "queued" and "first4" table: every
-- UDP and TCP packet accepted by a rule in user space (scripts/bench.sh).
return {
  default = "accept",
  rules = {
    { name = "udp", proto = "udp", verdict = "accept" },
    { name = "tcp", proto = "tcp", verdict = "accept" },
  },
}
