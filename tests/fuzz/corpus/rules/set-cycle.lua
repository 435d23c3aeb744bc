return { default = "accept", sets = { a = { "@b" }, b = { "198.18.0.0/15", "@c" }, c = { "@a" } },
  rules = { { name = "cycle", src = "@a", verdict = "drop" } } }
