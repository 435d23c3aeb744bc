return { default = "accept", rules = setmetatable({}, {
  __len = function() while true do end end, __pairs = function() while true do end end,
  __index = function() return { name = "x", verdict = "drop" } end }) }
