return { default = "accept", rules = { { name = string.rep("n", 100000), verdict = "drop" } } }
