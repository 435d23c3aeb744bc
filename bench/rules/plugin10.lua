-- plugin10.lua - the benchmark's 10-rule table: nine declarative rules the
-- traffic never matches, then a C hook (bench/hook_accept.c) that reads
-- pkt->dport and pkt->len of every packet (scripts/bench.sh row "plugin10").
return {
  default = "accept",
  rules = {
    { name = "r1", proto = "tcp", dport = 1, src = "203.0.113.0/24", verdict = "drop" },
    { name = "r2", proto = "udp", dport = 2, src = "203.0.113.0/24", verdict = "drop" },
    { name = "r3", proto = "tcp", dport = 3, src = "203.0.113.0/24", verdict = "drop" },
    { name = "r4", proto = "udp", dport = 4, src = "203.0.113.0/24", verdict = "drop" },
    { name = "r5", proto = "tcp", dport = 5, src = "203.0.113.0/24", verdict = "drop" },
    { name = "r6", proto = "udp", dport = 6, src = "203.0.113.0/24", verdict = "drop" },
    { name = "r7", proto = "tcp", dport = 7, src = "203.0.113.0/24", verdict = "drop" },
    { name = "r8", proto = "udp", dport = 8, src = "203.0.113.0/24", verdict = "drop" },
    { name = "r9", proto = "tcp", dport = 9, src = "203.0.113.0/24", verdict = "drop" },
    { name = "hook", plugin = "hook_accept.so", symbol = "hook_accept_eval" },
  },
}
