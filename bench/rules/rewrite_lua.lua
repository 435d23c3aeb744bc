-- rewrite_lua.lua - the Lua rewrite row (scripts/bench.sh "rw-lua"): a hook
-- writes 4 payload bytes of every UDP packet, at bytes 33..36 (past the
-- fields vd-udpgen reads back), as bench/pktb_mangler.c does.
return {
  default = "accept",
  rules = {
    { name = "patch4", proto = "udp", lua = function(pkt)
        pkt:set_payload("VDRW", 33, 36)
        return "accept"
      end },
  },
}
