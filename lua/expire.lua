--[[
  expire: release held holds whose expiry has passed, and purge ended hold records older
  than the retention time. Holds in checkout are not touched: the reconciler resolves those
  through the ledger.

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user)
  ARGV[1]     now (epoch ms)
  ARGV[2]     max holds to release, and max records to purge, in this call
  ARGV[3]     retention of ended hold records (ms)

  Returns JSON
    {ok=true, released=n, purged=m}      call again while released or purged equals ARGV[2]
    {ok=false, error='not_loaded'}       inventory keys missing: load first
]]
-- @include "end_hold.lua"

if redis.call('EXISTS', KEYS[1]) == 0 then return fail('not_loaded') end
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local released = sweep_expired(now, limit)

local purged = 0
local old = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now - tonumber(ARGV[3]), 'LIMIT', 0, limit)
for _, id in ipairs(old) do
  local raw = redis.call('HGET', KEYS[3], id)
  if raw then
    local rec = cjson.decode(raw)
    if rec.order_id then redis.call('HDEL', KEYS[3], 'o:' .. rec.order_id) end
    redis.call('HDEL', KEYS[3], id)
  end
  redis.call('ZREM', KEYS[6], id)
  purged = purged + 1
end
return cjson.encode({ok = true, released = released, purged = purged})
