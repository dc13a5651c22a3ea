--[[
  load: (re)build an event's rules and inventory from the ledger and the catalog.

  Used when an event is created and when its keys are missing (Redis restarted empty).
  Availability of each type = capacity - sold - tickets in active SQL holds (degraded mode)
  - tickets in active holds (held or checkout) still recorded here, never below zero. The
  capacity is recorded as meta cap:<type> (the waiting list checks quantities against it). The
  SQL holds' taken count is recorded as meta sql_taken:<type>, which sync_sql.lua later
  compares with the ledger's to give back what SQL holds released. Ticket types not listed
  disappear from inv.

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user)
  ARGV[1]     mode: 'if_missing' (do nothing when inv exists: concurrent loaders after a
              restart agree on the first) or 'replace'
  ARGV[2]     currency (ISO 4217)
  ARGV[3]     per-user limit
  ARGV[4]     status (only 'on_sale' accepts holds)
  ARGV[5..]   sextuples: ticket type id, capacity, sold (ledger), unit price (minor units),
              tickets in active SQL holds (ledger held_sql), tickets taken by SQL holds
              and not given back (ledger taken_sql)

  Returns JSON {ok=true, loaded=true, available={<ticket type id>=n, ...}}
            or {ok=true, loaded=false}   mode 'if_missing' and inventory already present
]]
if ARGV[1] == 'if_missing' and redis.call('EXISTS', KEYS[1]) == 1 then
  return cjson.encode({ok = true, loaded = false})
end

local active = {}
local all = redis.call('HGETALL', KEYS[3])
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 2) ~= 'o:' then
    local rec = cjson.decode(all[i + 1])
    if rec.status == 'held' or rec.status == 'checkout' then
      for _, it in ipairs(rec.items) do
        active[it.ticket_type_id] = (active[it.ticket_type_id] or 0) + it.quantity
      end
    end
  end
end

redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[2], 'currency', ARGV[2], 'limit', ARGV[3], 'status', ARGV[4])
local available = {}
for i = 5, #ARGV, 6 do
  local tt = ARGV[i]
  local n = tonumber(ARGV[i + 1]) - tonumber(ARGV[i + 2]) - tonumber(ARGV[i + 4])
            - (active[tt] or 0)
  if n < 0 then n = 0 end
  redis.call('HSET', KEYS[1], tt, n)
  redis.call('HSET', KEYS[2], 'price:' .. tt, ARGV[i + 3], 'sql_taken:' .. tt, ARGV[i + 5],
             'cap:' .. tt, ARGV[i + 1])
  available[tt] = n
end
return cjson.encode({ok = true, loaded = true, available = available})
