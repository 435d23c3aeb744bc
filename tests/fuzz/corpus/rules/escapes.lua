local r = {}
for _, f in ipairs({ "io", "os", "package", "debug", "load", "loadstring", "dofile", "loadfile", "require", "collectgarbage" }) do
  r[#r + 1] = tostring(_ENV[f])
end
pcall(string.dump, function() end)
return { default = "accept", rules = { { name = table.concat(r, ","), verdict = "accept" } } }
