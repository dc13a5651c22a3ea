--[[
  queue_stats: the organiser's view of an event's waiting room.

  KEYS[1]  wr:{E}     hash (see queue_configure.lua)
  KEYS[2]  wrpre:{E}  zset: the pre-queue
  ARGV[1]  now (epoch ms)

  Returns JSON {ok=true, opened, paused, rate, opens_at, admitted, total} (total: places
  handed out, or the pre-queue size before opening) or {ok=false, error='not_configured'}
]]
-- @include "queue_pointer.lua"

local st = queue_state(tonumber(ARGV[1]))
if not st then return cjson.encode({ok = false, error = 'not_configured'}) end
return cjson.encode({ok = true, opened = st.opened, paused = st.paused, rate = st.rate,
                     opens_at = st.opens_at, admitted = st.admitted, total = st.total})
