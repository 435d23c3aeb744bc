-- default.lua - the bundled policy scripts/demo.sh runs: a small userspace
-- firewall for UDP test traffic, showing each kind of rule.
--
--   port 5000: allowed, and tagged with mark 0x10
--   port 5001: dropped (a declarative rule, evaluated in C), and logged
--              (with --log-json / --log-pcap)
--   port 5002: a Lua hook drops payloads whose first byte is 0xff, and
--              counts what it lets through
--   anything else queued here: the default, accept
return {
  default = "accept",
  sets = {
    lab = { "127.0.0.0/8", "::1", "198.18.0.0/15", "2001:db8::/32" },
  },
  rules = {
    { name = "allow-5000", proto = "udp", dport = 5000, src = "@lab",
      verdict = "accept", mark = 0x10 },
    { name = "block-5001", proto = "udp", dport = 5001, verdict = "drop", log = true },
    { name = "filter-5002", proto = "udp", dport = 5002, on_error = "drop",
      lua = function(pkt)
        if pkt:byte(1) == 0xff then
          return "drop"
        end
        return "accept"
      end },
  },
}
