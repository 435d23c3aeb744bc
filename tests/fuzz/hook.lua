-- hook.lua - the table fuzz_hook runs every packet through: each hook reads
-- every pkt field, indexes the payload anywhere (negative, zero, past both
-- ends) and writes every assignable field and the payload with values and
-- indices taken from the packet's own bytes. Each write is in pcall, so a
-- refused one leaves the others to run; "other" also fails on purpose.
local fields = { "dport", "sport", "len", "proto", "src", "dst", "ttl", "dscp", "ecn",
  "tcp_flags", "mark", "indev", "outdev", "uid", "gid", "queue", "ct_state", "ip_version",
  "payload_len", "icmp_type", "icmp_code", "truncated", "parse_error", "hook", "id", "time",
  "prefix", "seq", "group" }

local function read_all(pkt)
  local n = 0
  for _, f in ipairs(fields) do
    if pkt[f] ~= nil then n = n + 1 end
  end
  local a, b = pkt:byte(1) or 0, pkt:byte(-1) or 0
  local s = pkt:payload(a - 128, b - 128) .. pkt:payload(-a) .. pkt:payload(b, -a)
  return n + #s + (pkt:byte(a - 128) or 0) + (pkt:byte(-b) or 0) + #tostring(pkt)
end

local function write_some(pkt)
  local a, b, c = pkt:byte(1) or 7, pkt:byte(2) or 3, pkt:byte(3) or 0
  pcall(function() pkt.ttl = a end)
  pcall(function() pkt.dscp = b % 64 end)
  pcall(function() pkt.ecn = c % 4 end)
  pcall(function() pkt.sport = a * 256 + b end)
  pcall(function() pkt.dport = b * 256 + c end)
  pcall(function() pkt.tcp_flags = (c % 2 == 0) and c or "syn,!ack" end)
  if c % 3 == 0 then
    pcall(function() pkt.src = "198.18.0.9" end)
  elseif c % 3 == 1 then
    pcall(function() pkt.dst = "2001:db8::9" end)
  end
  pcall(function() pkt:set_byte(b - 128, a) end)
  pcall(function() pkt:set_payload(pkt:payload(1, c % 8) .. "xyz", a - 128, b - 128) end)
  pcall(function() pkt:set_payload(string.rep("z", c * 4), c % 5 + 1) end)
  return read_all(pkt)
end

local function hook(pkt)
  read_all(pkt)
  write_some(pkt)
  return "accept", { mark = pkt:byte(1) or 0 }
end

return {
  default = "accept",
  rules = {
    { name = "udp", proto = "udp", lua = hook },
    { name = "tcp", proto = "tcp", lua = hook, set = { mss = 536 } },
    { name = "icmp", proto = "icmp", lua = hook, set = { ttl = 9 } },
    { name = "icmpv6", proto = "icmpv6", lua = hook },
    { name = "other", lua = function(pkt)
        write_some(pkt)
        if (pkt:byte(1) or 0) > 200 then error("fails on purpose") end
        return "accept"
      end },
  },
}
