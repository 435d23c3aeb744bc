string.find(string.rep("a", 30000), string.rep(".-", 12) .. "b")
return { default = "accept", rules = {} }
