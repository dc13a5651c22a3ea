--[[
  sync_sql: give back to Redis the tickets that SQL holds (degraded mode) released, or take
  from Redis the tickets SQL holds took, so both stores never sell the same ticket; and keep
  the per-user counts in step with what each buyer took through SQL.

  meta sql_taken:<type> is the number of SQL-taken tickets already excluded from inv (set by
  load.lua and by this script). The ledger's taken_sql (tickets of SQL holds held or sold
  through them, not released) is the truth; the difference moves inv. Idempotent: it sets
  the accounted number to the ledger's, so a repeat moves nothing. When inv cannot cover
  what SQL took (Redis sold those tickets meanwhile), it takes what is there and records
  only that, so a later run takes the rest as Redis holds end; the ledger's capacity guard
  refuses (and refunds) the overlap meanwhile. Per user the same: KEYS[8] remembers what
  per_user already counts of each buyer's SQL tickets.

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user)
  KEYS[8]     sqlusers:{E}  hash: user id -> that buyer's SQL-taken tickets counted in per_user
  ARGV[1]     n: how many ticket type pairs follow
  ARGV[2..]   n pairs: ticket type id, ledger taken_sql of that type
  then        pairs: user id, tickets that buyer holds or bought through SQL holds

  Returns JSON {ok=true, available={<type>=n, ...}, moved={<type>=delta, ...}}
            or {ok=false, error='not_loaded'}
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return cjson.encode({ok = false, error = 'not_loaded'})
end
local types = tonumber(ARGV[1])
local available, moved = {}, {}
for i = 2, 1 + 2 * types, 2 do
  local tt, taken = ARGV[i], tonumber(ARGV[i + 1])
  local inv = redis.call('HGET', KEYS[1], tt)
  if inv then
    inv = tonumber(inv)
    local accounted = tonumber(redis.call('HGET', KEYS[2], 'sql_taken:' .. tt) or '0')
    local delta = accounted - taken   -- > 0: SQL released tickets; < 0: SQL took more
    if inv + delta < 0 then delta = -inv end
    if delta ~= 0 then
      redis.call('HINCRBY', KEYS[1], tt, delta)
      redis.call('HSET', KEYS[2], 'sql_taken:' .. tt, accounted - delta)
    end
    available[tt] = inv + delta
    moved[tt] = delta
  end
end
for i = 2 + 2 * types, #ARGV, 2 do
  local user, taken = ARGV[i], tonumber(ARGV[i + 1])
  local counted = tonumber(redis.call('HGET', KEYS[8], user) or '0')
  if taken ~= counted then
    redis.call('HINCRBY', KEYS[7], user, taken - counted)
    redis.call('HSET', KEYS[8], user, taken)
  end
end
return cjson.encode({ok = true, available = available, moved = moved})
