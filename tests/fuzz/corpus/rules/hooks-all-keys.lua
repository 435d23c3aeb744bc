return {
  default = "drop", log_default = true,
  sets = { v4 = { "198.18.0.0/15" }, v6 = { "2001:db8::/32" }, both = { "@v4", "@v6" } },
  rules = {
    { name = "all", proto = { "tcp", 17 }, sport = "1-1024", dport = { 22, "8000-8999" }, src = "@both",
      dst = "::/0", iif = 1, oif = 1, uid = { 0, "1000-2000" }, gid = 0, ct_state = { "new", "established" },
      tcp_flags = "syn,!ack", icmp_type = 8, icmp_code = 0, len = "0-65535", match_mark = "0x1/0xff",
      match_queue = { 0, 3 }, verdict = "queue", queue = 2, bypass = true, mark = { value = 1, mask = 3 }, log = true },
    { name = "hook", on_error = "accept", lua = function(pkt)
        local s = pkt:payload(1, 4)
        if pkt.proto == "udp" and pkt.dport == 53 then return "drop" end
        return "repeat", { mark = 7 } end },
    { name = "plugin", plugin = "/nonexistent/plugin.so", symbol = "x", args = "a=1" },
  },
  logs = { { name = "log-udp", proto = "udp", verdict = "accept", mark = 5 }, { name = "skip", verdict = "drop" } },
}
