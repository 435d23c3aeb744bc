return { default = "accept", rules = { a = { name = "a", verdict = "drop" } } }
