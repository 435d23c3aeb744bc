-- kr_accept.lua - the kernel-rules rows' "queued" and "first4" table: every
-- UDP and TCP packet accepted by a rule in user space (scripts/bench.sh).
-- match_queue keeps the rules out of the kernel (it is not offloadable), so
-- that every packet the queue rule takes really reaches verdictd.
return {
  default = "accept",
  rules = {
    { name = "udp", proto = "udp", match_queue = 0, verdict = "accept" },
    { name = "tcp", proto = "tcp", match_queue = 0, verdict = "accept" },
  },
}
