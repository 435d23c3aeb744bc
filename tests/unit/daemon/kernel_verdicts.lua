-- kernel_verdicts.lua - a table that rejects and bypasses, for the
-- check_rules_kernel_verdicts* tests (tests/CMakeLists.txt).
return { default = "accept", rules = {
  { name = "rst", proto = "tcp", dport = 7400, verdict = "reject", reject_with = "tcp-reset" },
  { name = "once", proto = "udp", verdict = "accept", bypass = true },
} }
