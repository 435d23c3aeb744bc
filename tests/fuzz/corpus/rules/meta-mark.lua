return { default = "accept", rules = { { name = "m", verdict = "accept",
  mark = setmetatable({}, { __index = function() while true do end end }) } } }
