-- decl10.lua - vd-micro's 10-rule declarative table: the nine rules of
-- lua10.lua, then a declarative last rule (row "rules-10").
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
    { name = "last", proto = "sctp", verdict = "drop" },
  },
}
