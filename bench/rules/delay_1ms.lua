-- delay_1ms.lua - every UDP packet to the bench port held 1 ms, declarative
-- (scripts/bench.sh, the release-accuracy rows).
return {
  default = "accept",
  rules = {
    { name = "delay1", proto = "udp", dport = 9000, verdict = "accept", delay = "1ms" },
  },
}
