return { default = "accept", rules = { { name = "b", lua = load(string.dump(function() return "accept" end)) } } }
