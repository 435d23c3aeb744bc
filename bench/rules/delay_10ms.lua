-- delay_10ms.lua - every UDP packet to the bench port held 10 ms, declarative
-- (scripts/bench.sh, the release-accuracy rows).
return {
  default = "accept",
  rules = {
    { name = "delay10", proto = "udp", dport = 9000, verdict = "accept", delay = "10ms" },
  },
}
