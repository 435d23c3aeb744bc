-- delay_0ms.lua - the delay rows' rule without a delay: the immediate accept
-- they are measured against (scripts/bench.sh, the release-accuracy floor).
return {
  default = "accept",
  rules = {
    { name = "delay0", proto = "udp", dport = 9000, verdict = "accept" },
  },
}
