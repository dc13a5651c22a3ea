--[[
  rate_limit: take `cost` from a rate limit bucket (GCRA), atomically.

  KEYS[1]  the bucket, e.g. rl:login:ip:<address>   string: theoretical arrival time (ms)
  ARGV[1]  limit (requests per window)
  ARGV[2]  window (ms)
  ARGV[3]  now (epoch ms)
  ARGV[4]  cost (usually 1)
  ARGV[5]  '1' for a dry run: answer whether it would pass, change nothing

  Returns JSON {ok=true} or {ok=false, error='rate_limited', retry_after_ms=n}
]]
-- @include "gcra.lua"

local now = tonumber(ARGV[3])
local window = tonumber(ARGV[2])
local allowed, tat, wait = gcra(tonumber(redis.call('GET', KEYS[1]) or '0'), now,
                                tonumber(ARGV[1]), window, tonumber(ARGV[4]))
if not allowed then
  return cjson.encode({ok = false, error = 'rate_limited', retry_after_ms = wait})
end
if ARGV[5] ~= '1' then
  redis.call('SET', KEYS[1], tostring(tat), 'PX', math.max(1, math.ceil(tat - now)))
end
return cjson.encode({ok = true})
