-- example.lua - the rules API at a glance (verdictd --check rules/example.lua).
-- First match wins; a packet that matches no rule gets `default`.
return {
  default = "accept",              -- verdict when no rule matches
  sets = {                         -- named address sets, used as "@name"
    lan = { "198.18.0.0/15", "2001:db8::/32" },
  },
  rules = {
    { name = "ssh-lan", proto = "tcp", dport = 22, src = "198.18.0.0/15", verdict = "accept" },
    { name = "no-telnet", proto = "tcp", dport = { 23, 2323 }, verdict = "drop" },
    { name = "tag-web", proto = "tcp", dport = "8000-8999", verdict = "accept", mark = 0x10 },
    { name = "dns-size", proto = "udp", dport = 53,
      lua = function(pkt) if pkt.len > 512 then return "drop" end return "accept" end },
    { name = "synguard", proto = "tcp", tcp_flags = "syn,!ack",
      plugin = "rules/plugins/synguard.so", symbol = "synguard_eval", args = "rate=20,burst=40" },
    { name = "lan-only-admin", proto = "tcp", dport = 9090, src = "@lan", ct_state = "new",
      verdict = "accept" },
    { name = "no-admin", proto = "tcp", dport = 9090, verdict = "drop" },
    { name = "ping-limit", proto = "icmp", icmp_type = 8, len = "1000-65535", verdict = "drop" },
    { name = "to-queue-3", proto = "udp", dport = 4789, verdict = "queue", queue = 3, bypass = true },
    -- Packets arriving on queue 3 (say, from the rule above, with `--queue 0,3`):
    -- match_queue matches the queue; the mark sets bit 0x1 and keeps the others.
    { name = "on-queue-3", match_queue = 3, verdict = "accept", mark = "0x1/0x1" },
    -- A hook may give any verdict a rule can: queue (with bypass and a mark) too.
    { name = "big-udp-aside", proto = "udp", dport = 5300, len = "1200-65535",
      lua = function(pkt)
        if pkt:payload(-2) == "\0\0" then return "drop" end   -- the last two bytes
        return "queue", { queue = 3, bypass = true, mark = { value = 0x2, mask = 0x2 } }
      end },
  },
}
