return { default = "accept", sets = { a = "@a" },
  rules = { { name = "self", src = "@a", verdict = "drop" } } }
