--[[
  expire: release held holds whose expiry has passed, and purge ended hold records older
  than the retention time. Holds in checkout are not touched: the reconciler resolves those
  through the ledger.

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user)
  KEYS[8]     wl:{E}, the waiting list: before a waiting-list offer's hold record is
              purged, its entry keeps the outcome (purchased with its order, declined or
              expired), which the entry's view otherwise reads from that record
  ARGV[1]     now (epoch ms)
  ARGV[2]     max holds to release, and max records to purge, in this call
  ARGV[3]     retention of ended hold records (ms)

  Returns JSON
    {ok=true, released=n, purged=m}      call again while released or purged equals ARGV[2]
    {ok=false, error='not_loaded'}       inventory keys missing: load first
]]
-- @include "end_hold.lua"

local function keep_offer_outcome(rec)
  local raw = redis.call('HGET', KEYS[8], rec.waitlist)
  local entry = raw and cjson.decode(raw)
  if not entry or entry.status ~= 'offered' or entry.hold_id ~= rec.id then return end
  if rec.status == 'committed' then
    entry.status, entry.order_id = 'purchased', rec.order_id
  elseif rec.end_reason == 'cancelled' or rec.end_reason == 'declined' then
    entry.status = 'declined'
  else
    entry.status = 'expired'
  end
  redis.call('HSET', KEYS[8], rec.waitlist, cjson.encode(entry))
end

if redis.call('EXISTS', KEYS[1]) == 0 then return fail('not_loaded') end
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local released = sweep_expired(now, limit)

local purged = 0
local old = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now - tonumber(ARGV[3]), 'LIMIT', 0, limit)
for _, id in ipairs(old) do
  local raw = redis.call('HGET', KEYS[3], id)
  if raw then
    local rec = cjson.decode(raw)
    if rec.waitlist then keep_offer_outcome(rec) end
    if rec.order_id then redis.call('HDEL', KEYS[3], 'o:' .. rec.order_id) end
    redis.call('HDEL', KEYS[3], id)
  end
  redis.call('ZREM', KEYS[6], id)
  purged = purged + 1
end
return cjson.encode({ok = true, released = released, purged = purged})
