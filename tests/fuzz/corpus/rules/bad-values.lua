return { default = "accept", rules = {
  { name = "m", mark = "0x10/", verdict = "accept" },
  { name = "p", src = "10.0.0.0/4294967328", verdict = "drop" },
  { name = "r", dport = "9-1", sport = { 1, "2-3", 70000 }, verdict = "drop" } },
  logs = { { name = "l", verdict = "queue", queue = 1 } } }
