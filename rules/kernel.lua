-- kernel.lua - rules that run in the kernel (verdictd --check rules/kernel.lua;
-- serve with --firewall iptables|nft, which installs verdictd's own chains).
-- The leading rules the kernel can evaluate exactly are offloaded: their
-- packets never reach verdictd, and their hits are the kernel's counters.
-- Offloading stops at the first rule that needs user space (here, the hook).
return {
  default = "accept",
  rules = {
    -- Offloaded: accepted by the kernel itself.
    { name = "lab-udp", proto = "udp", dport = 6000, src = "127.0.0.0/8", verdict = "accept" },
    -- Offloaded: answered by the kernel with ICMP port unreachable (the
    -- sender's socket sees ECONNREFUSED); tcp-reset for TCP rules.
    { name = "closed", proto = "udp", dport = 6001, verdict = "reject" },
    -- In verdictd: the hook sees a connection's first packet and decides
    -- the rest of it in the kernel (bypass, through the connection mark).
    { name = "inspect-once", proto = "udp", dport = 6002,
      lua = function(pkt)
        if pkt:byte(1) == 0xff then return "drop", { bypass = true } end
        return "accept", { bypass = true }
      end },
  },
}
