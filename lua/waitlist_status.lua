--[[
  waitlist_status: a buyer's waiting-list entries of an event, and how many wait per type.

  Read-only. Each entry as the buyer sees it: place (1-based among the waiting entries of
  its type) while waiting; the offer (hold id, expiry) once offered; and the state derived
  from the offer's hold after that: purchased, expired or declined. Entries that ended
  stay readable until the buyer joins that type again.

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user)
  KEYS[8]     wl:{E}   hash: entries and counters (see waitlist_join.lua)
  KEYS[9]     wlq:{E}  zset: waiting entry id -> slot * 2^32 + seq
  ARGV[1]     user id ('' for none: only the counts)

  Returns JSON
    {ok=true, entries=[<entry view>, ...], waiting={<ticket type id>=n, ...}}
]]
-- @include "end_hold.lua"
-- @include "waitlist.lua"

local entries, waiting = {}, {}
local types = tonumber(redis.call('HGET', KEYS[8], 'types') or '0')
for slot = 1, types do
  local tt = redis.call('HGET', KEYS[8], 'ts:' .. slot)
  waiting[tt] = tonumber(redis.call('HGET', KEYS[8], 'n:' .. tt) or '0')
  if ARGV[1] ~= '' then
    local id = redis.call('HGET', KEYS[8], 'u:' .. ARGV[1] .. ':' .. tt)
    local raw = id and redis.call('HGET', KEYS[8], id)
    if raw then entries[#entries + 1] = wl_view(cjson.decode(raw)) end
  end
end
return cjson.encode({ok = true, entries = entries, waiting = waiting})
