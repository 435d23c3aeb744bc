local s = {}
for i = 0, 19999 do s[#s + 1] = string.format("10.%d.%d.0/24", i // 256 % 256, i % 256) end
return { default = "accept", sets = { big = s }, rules = { { name = "big", src = "@big", verdict = "drop" } } }
