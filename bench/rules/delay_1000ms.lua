-- delay_1000ms.lua - every UDP packet to the bench port held 1 s, declarative
-- (scripts/bench.sh, the row that holds 100,000 packets at once).
return {
  default = "accept",
  rules = {
    { name = "delay1000", proto = "udp", dport = 9000, verdict = "accept", delay = "1s" },
  },
}
