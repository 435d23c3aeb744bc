local p = string.rep("a?", 5000) .. string.rep("a", 5000)
string.gsub(string.rep("a", 5000), p, "")
return { default = "accept", rules = {} }
