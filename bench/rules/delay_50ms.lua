-- delay_50ms.lua - every UDP packet to the bench port held 50 ms, declarative
-- (scripts/bench.sh, the release-accuracy rows).
return {
  default = "accept",
  rules = {
    { name = "delay50", proto = "udp", dport = 9000, verdict = "accept", delay = "50ms" },
  },
}
