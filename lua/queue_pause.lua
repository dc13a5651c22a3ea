--[[
  queue_pause: pause or resume admission. Paused, the admitted pointer stands still at once;
  the paused time never counts towards admissions after resuming.

  KEYS[1]  wr:{E}     hash (see queue_configure.lua)
  KEYS[2]  wrpre:{E}  zset: the pre-queue
  ARGV[1]  now (epoch ms)
  ARGV[2]  '1' to pause, '0' to resume

  Returns JSON {ok=true, paused, admitted, total} or {ok=false, error='not_configured'}
]]
-- @include "queue_pointer.lua"

local now = tonumber(ARGV[1])
local st = queue_state(now)
if not st then return cjson.encode({ok = false, error = 'not_configured'}) end
queue_rebase(st, now)
st.paused = ARGV[2] == '1'
redis.call('HSET', KEYS[1], 'paused', ARGV[2])
return cjson.encode({ok = true, paused = st.paused, admitted = st.admitted, total = st.total})
