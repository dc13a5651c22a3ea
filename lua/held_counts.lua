--[[
  held_counts: tickets in active holds (held or checkout) per ticket type, for the ledger's
  record of what Redis holds (the degraded-mode guard counts it while Redis is down).
  O(active holds): reads the members of hexp and hpay, not the ended holds kept for lookups.

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user)
  ARGV        none

  Returns JSON {ok=true, held={<ticket type id>=n, ...}} or {ok=false, error='not_loaded'}
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return cjson.encode({ok = false, error = 'not_loaded'})
end
local held = {}
for _, key in ipairs({KEYS[4], KEYS[5]}) do
  local all = redis.call('ZRANGE', key, 0, -1)
  for first = 1, #all, 500 do  -- unpack has a stack limit: read the records in chunks
    local ids = {unpack(all, first, math.min(first + 499, #all))}
    local recs = redis.call('HMGET', KEYS[3], unpack(ids))
    for _, raw in ipairs(recs) do
      if raw then
        local rec = cjson.decode(raw)
        if rec.status == 'held' or rec.status == 'checkout' then
          for _, it in ipairs(rec.items) do
            held[it.ticket_type_id] = (held[it.ticket_type_id] or 0) + it.quantity
          end
        end
      end
    end
  end
end
return cjson.encode({ok = true, held = held})
