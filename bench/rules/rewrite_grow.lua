-- rewrite_grow.lua - the growth row (scripts/bench.sh "rw-grow"): every UDP
-- payload gets 16 bytes more at its end (lengths and checksums recomputed).
local tail = string.rep("+", 16)
return {
  default = "accept",
  rules = {
    { name = "grow16", proto = "udp", lua = function(pkt)
        pkt:set_payload(tail, pkt.payload_len + 1, pkt.payload_len)
        return "accept"
      end },
  },
}
