--[[
  capacity: change how many tickets of one type exist, as a delta on what is available now.

  Raising adds the new tickets to inv at once. Lowering takes them from inv only while
  enough are unsold and unheld: available + delta >= 0, i.e. capacity never drops below
  sold + held. A new ticket type (absent from inv) starts with delta tickets and its price.

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user)
  ARGV[1]     ticket type id
  ARGV[2]     delta (may be negative)
  ARGV[3]     unit price for a new ticket type ('' to keep the current one)

  Returns JSON
    {ok=true, available=n}
    {ok=false, error='not_loaded'}                  inventory keys missing: load first
    {ok=false, error='below_sold_and_held', available=n}
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return cjson.encode({ok = false, error = 'not_loaded'})
end
local tt, delta = ARGV[1], tonumber(ARGV[2])
local available = tonumber(redis.call('HGET', KEYS[1], tt) or '0')
if available + delta < 0 then
  return cjson.encode({ok = false, error = 'below_sold_and_held', available = available})
end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], 'price:' .. tt, ARGV[3]) end
-- meta cap:<type> follows the capacity (a new type starts at delta); a type loaded before
-- capacities were recorded has none, and the next load records it.
if redis.call('HEXISTS', KEYS[2], 'cap:' .. tt) == 1 or redis.call('HEXISTS', KEYS[1], tt) == 0 then
  redis.call('HINCRBY', KEYS[2], 'cap:' .. tt, delta)
end
return cjson.encode({ok = true, available = redis.call('HINCRBY', KEYS[1], tt, delta)})
