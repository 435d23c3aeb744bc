-- shaping.lua - delay, jitter, loss and rate from the rules file, in tc
-- netem's vocabulary (verdictd --check rules/shaping.lua). A rule's verdict
-- is the one given when the packet is released. Order, as netem: loss,
-- limit, rate, then delay + jitter (added to the rate's wait).
-- Strings carry units (us, ms, s; kbit, mbit, gbit; b, kb, mb; %); bare
-- numbers are seconds, bits per second, bytes or a fraction.
return {
  default = "accept",
  seed = 42, -- every random choice repeats from run to run
  rules = {
    -- A satellite link for one test port: 300 ms +- 20 ms, normal spread.
    { name = "sat-rtt", proto = "udp", dport = 5001, verdict = "accept",
      delay = "300ms", jitter = "20ms", distribution = "normal", limit = 10000 },
    -- 1% random loss on DNS to the test resolver.
    { name = "dns-loss", proto = "udp", dst = "198.18.0.53", dport = 53, verdict = "accept",
      loss = "1%" },
    -- Bursty loss (Gilbert-Elliott): 1% chance of entering a bad spell, which
    -- lasts 1/r = 4 packets on average and loses 90% of them (1 - h).
    { name = "wifi-fade", proto = "udp", dport = 5002, verdict = "accept",
      loss = { model = "gemodel", p = "1%", r = "25%", h = "10%", k = "100%" } },
    -- 2 Mbit/s per source with a 32 kB burst, packets delayed, not dropped;
    -- at most 2000 held for the rule, beyond that dropped (limit_dropped).
    { name = "uplink-2m", proto = "tcp", src = "198.18.1.0/24", verdict = "accept",
      rate = "2mbit", burst = "32kb", per = "src", limit = 2000 },
  },
}
