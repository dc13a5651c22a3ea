--[[
  queue_join: a visitor joins an event's waiting room; joining again returns the same place.
  Before opening the visitor enters the pre-queue with a random score (arrival time does not
  count); after opening a new visitor gets the next place (first come, first served). A
  visitor whose admission window has passed gets a new place at the back.

  KEYS[1]  wr:{E}     hash (see queue_configure.lua)
  KEYS[2]  wrpre:{E}  zset: pre-queue, user id -> random score
  KEYS[3]  wrpos:{E}  hash: user id -> place (1-based)
  KEYS[4]  wradm:{E}  hash: user id -> admitted_at (ms), the start of the admission window
  ARGV[1]  user id
  ARGV[2]  now (epoch ms)
  ARGV[3]  random score in [0, 1) (used only before opening)
  ARGV[4]  admission window (ms)

  Returns JSON {ok=true, state='pre_queue', total, opens_at, rate, paused} before opening;
  after: {ok=true, state='queued'|'admitted', place, admitted, total, rate, paused, opens_at,
  admitted_at?, expires_at?}; or {ok=false, error='not_configured'}
]]
-- @include "queue_pointer.lua"

local user, now, window = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[4])
local st = queue_state(now)
if not st then return cjson.encode({ok = false, error = 'not_configured'}) end
if not st.opened then
  redis.call('ZADD', KEYS[2], 'NX', ARGV[3], user)
  return cjson.encode({ok = true, state = 'pre_queue', total = redis.call('ZCARD', KEYS[2]),
                       opens_at = st.opens_at, rate = st.rate, paused = st.paused})
end
local place = queue_place(st, user)
if place then
  local out = queue_describe(st, user, place, now, window)
  if out.state ~= 'expired' then return cjson.encode(out) end
  redis.call('HDEL', KEYS[4], user)
end
place = st.pre + redis.call('HINCRBY', KEYS[1], 'arrivals', 1)
st.total = place
redis.call('HSET', KEYS[3], user, place)
return cjson.encode(queue_describe(st, user, place, now, window))
