--[[
  restock: put refunded tickets back on sale, once per refund.

  The ledger has already taken the tickets off `sold` (and voided them) when this runs, so
  adding them to `inv` here restores available + held + sold == capacity. Idempotent on the
  refund id (KEYS[8] remembers refunds already restocked), so a retry after a crash never
  adds the tickets twice. The buyer's per-event count drops by the refunded tickets, so they
  may buy again within their limit.

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user)
  KEYS[8]     refunds:{E}, a set of refund ids already restocked
  ARGV[1]     refund id
  ARGV[2]     buyer's user id
  ARGV[3..]   pairs: ticket type id, quantity

  Returns JSON
    {ok=true, already=true}                       this refund was restocked before
    {ok=true, already=false, loaded=true|false}   done; loaded=false: inventory keys are
                                                  missing and the next load (from the ledger,
                                                  which has the refund) counts the tickets
]]
if redis.call('SISMEMBER', KEYS[8], ARGV[1]) == 1 then
  return cjson.encode({ok = true, already = true})
end
local loaded = redis.call('EXISTS', KEYS[1]) == 1
local n = 0
for i = 3, #ARGV, 2 do
  local q = tonumber(ARGV[i + 1])
  n = n + q
  if loaded then redis.call('HINCRBY', KEYS[1], ARGV[i], q) end
end
if redis.call('HEXISTS', KEYS[7], ARGV[2]) == 1 then
  local left = redis.call('HINCRBY', KEYS[7], ARGV[2], -n)
  if left <= 0 then redis.call('HDEL', KEYS[7], ARGV[2]) end
end
redis.call('SADD', KEYS[8], ARGV[1])
return cjson.encode({ok = true, already = false, loaded = loaded})
