--[[
  queue_status: a visitor's place in an event's waiting room (nothing is joined). The first
  read after the admitted pointer passed the place starts the visitor's admission window.

  KEYS[1]  wr:{E}     hash (see queue_configure.lua)
  KEYS[2]  wrpre:{E}  zset: pre-queue, user id -> random score
  KEYS[3]  wrpos:{E}  hash: user id -> place (1-based)
  KEYS[4]  wradm:{E}  hash: user id -> admitted_at (ms)
  ARGV[1]  user id
  ARGV[2]  now (epoch ms)
  ARGV[3]  admission window (ms)

  Returns JSON like queue_join.lua (state 'pre_queue', 'queued', 'admitted' or 'expired'),
  {ok=true, state='none', ...} for a visitor not in the queue, or
  {ok=false, error='not_configured'}
]]
-- @include "queue_pointer.lua"

local user, now, window = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local st = queue_state(now)
if not st then return cjson.encode({ok = false, error = 'not_configured'}) end
if not st.opened then
  local state = redis.call('ZSCORE', KEYS[2], user) and 'pre_queue' or 'none'
  return cjson.encode({ok = true, state = state, total = st.total, opens_at = st.opens_at,
                       rate = st.rate, paused = st.paused})
end
local place = queue_place(st, user)
if not place then
  return cjson.encode({ok = true, state = 'none', admitted = st.admitted, total = st.total,
                       opens_at = st.opens_at, rate = st.rate, paused = st.paused})
end
return cjson.encode(queue_describe(st, user, place, now, window))
