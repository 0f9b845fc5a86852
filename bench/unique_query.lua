-- wrk: make every request's URL unique (?n=<run>-<counter>), so every request is a
-- cache miss; the run prefix keeps the warm-up's URLs out of the measurement.
local run = os.time()
local counter = 0

request = function()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. "?n=" .. run .. "-" .. counter)
end
