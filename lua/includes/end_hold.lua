--[[
  end_hold(rec, now, status, reason): ends an active hold.

  status 'released': its tickets go back to inv (when inventory is loaded) and the user's
  per-event count drops. status 'committed': the tickets stay sold and counted.
  Either way the record is rewritten with its final status and the hold id moves from the
  live indexes (hexp, hpay) to hdone, where expire.lua purges it after the retention time.
]]
local function end_hold(rec, now, status, reason)
  if status == 'released' then
    local n = 0
    local loaded = redis.call('EXISTS', KEYS[1]) == 1
    for _, it in ipairs(rec.items) do
      n = n + it.quantity
      if loaded then redis.call('HINCRBY', KEYS[1], it.ticket_type_id, it.quantity) end
    end
    local left = redis.call('HINCRBY', KEYS[7], rec.user_id, -n)
    if left <= 0 then redis.call('HDEL', KEYS[7], rec.user_id) end
    if rec.promo then  -- a released hold gives its promo code use back
      redis.call('HINCRBY', KEYS[2], 'promo_uses:' .. rec.promo, -1)
    end
  end
  rec.status = status
  rec.ended_at = now
  rec.payment_token = nil  -- kept only while its payment message may need publishing again
  rec.trace = nil
  rec.end_reason = reason
  redis.call('HSET', KEYS[3], rec.id, cjson.encode(rec))
  redis.call('ZREM', KEYS[4], rec.id)
  redis.call('ZREM', KEYS[5], rec.id)
  redis.call('ZADD', KEYS[6], now, rec.id)
end

--[[
  sweep_expired(now, limit): releases up to `limit` held holds whose expiry has passed.
  Holds in checkout live in hpay, not hexp, so a payment in flight is never swept here.
  Returns how many holds it released.
]]
local function sweep_expired(now, limit)
  local released = 0
  if limit <= 0 then return 0 end
  local ids = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, limit)
  for _, id in ipairs(ids) do
    local raw = redis.call('HGET', KEYS[3], id)
    local rec = raw and cjson.decode(raw)
    if rec and rec.status == 'held' then
      end_hold(rec, now, 'released', 'expired')
      released = released + 1
    else
      redis.call('ZREM', KEYS[4], id)
    end
  end
  return released
end

local function fail(code, extra)
  local out = extra or {}
  out.ok = false
  out.error = code
  return cjson.encode(out)
end
