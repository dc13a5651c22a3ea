--[[
  queue_configure: set (or create) an event's waiting room: opening time and admission rate.

  KEYS[1]  wr:{E}     hash: opens_at, rate (per minute), base_at, base_units, paused, opened,
                      pre (pre-queue size, frozen at opening), arrivals (places after opening)
  KEYS[2]  wrpre:{E}  zset: pre-queue, user id -> random score
  ARGV[1]  now (epoch ms)
  ARGV[2]  opens_at (epoch ms)
  ARGV[3]  admit per minute (positive integer)

  Returns JSON {ok=true, opened, paused, rate, opens_at, admitted, total}, or
  {ok=false, error='already_open', opens_at} when the queue has opened and opens_at differs
  (places were handed out against the old time, so it can no longer move).
]]
-- @include "queue_pointer.lua"

local now, opens_at, rate = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local st = queue_state(now)
if not st then
  redis.call('HSET', KEYS[1], 'opens_at', opens_at, 'rate', rate, 'base_at', opens_at,
             'base_units', 0, 'paused', '0', 'opened', '0', 'pre', 0, 'arrivals', 0)
  st = queue_state(now)
elseif st.opened then
  if opens_at ~= st.opens_at then
    return cjson.encode({ok = false, error = 'already_open', opens_at = st.opens_at})
  end
  queue_rebase(st, now)
  redis.call('HSET', KEYS[1], 'rate', rate)
  st.rate = rate
else
  -- Not open yet: the pointer starts at the (new) opening time.
  redis.call('HSET', KEYS[1], 'opens_at', opens_at, 'base_at', opens_at, 'base_units', 0,
             'rate', rate)
  st = queue_state(now)
end
return cjson.encode({ok = true, opened = st.opened, paused = st.paused, rate = st.rate,
                     opens_at = st.opens_at, admitted = st.admitted, total = st.total})
