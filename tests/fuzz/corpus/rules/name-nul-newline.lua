return { default = "drop", rules = {
  { name = "a\0b", verdict = "accept" }, { name = "line\nbreak", proto = "udp", verdict = "accept" },
  { name = "\xff\xfe bytes", verdict = "accept" } } }
