--[[
  snapshot: read an event's live inventory in one atomic step, for the organiser dashboard.

  Read-only. Reading availability and the active holds in one script means no hold, checkout,
  commit or release can fall between the two reads, so available + held (+ the ledger's sold)
  adds up to the capacity even while a sale runs.

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user)
  ARGV        none

  Returns JSON
    {ok=true, loaded=true, available={<type>=n},
     holds=[{hold_id=..., items=[[<type>, n], ...]}, ...]}   every held or checkout hold
    {ok=true, loaded=false}                                  inventory keys missing
  Holds are listed by id so the caller can tell those whose order the ledger has confirmed
  since this snapshot (sold there, about to be committed here) from those still held.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return cjson.encode({ok = true, loaded = false})
end
local available = {}
local inv = redis.call('HGETALL', KEYS[1])
for i = 1, #inv, 2 do available[inv[i]] = tonumber(inv[i + 1]) end

-- every active hold: held ones (hexp) and those in checkout (hpay)
local holds = {}
for k = 4, 5 do
  for _, id in ipairs(redis.call('ZRANGE', KEYS[k], 0, -1)) do
    local raw = redis.call('HGET', KEYS[3], id)
    if raw then
      local rec = cjson.decode(raw)
      if rec.status == 'held' or rec.status == 'checkout' then
        local items = {}
        for _, it in ipairs(rec.items) do items[#items + 1] = {it.ticket_type_id, it.quantity} end
        holds[#holds + 1] = {hold_id = rec.id, items = items}
      end
    end
  end
end
return cjson.encode({ok = true, loaded = true, available = available, holds = holds})
