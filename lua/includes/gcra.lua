--[[
  gcra(tat, now, limit, window, cost): the generic cell rate algorithm, a token bucket kept
  as one number, the "theoretical arrival time" (tat, ms). `limit` requests per `window` ms,
  bursts up to `limit`. Returns allowed (bool), the new tat to store when allowed, and the
  ms to wait before retrying when not.
]]
local function gcra(tat, now, limit, window, cost)
  local interval = window / limit
  local new_tat = math.max(tat or 0, now) + interval * cost
  local allow_at = new_tat - window
  if now < allow_at then
    return false, tat, math.ceil(allow_at - now)
  end
  return true, new_tat, 0
end
