--[[
  checkout: move a held hold into checkout and give it its order id.

  The hold leaves hexp (expiry sweeps) and enters hpay, scored by the end of the payment
  window; only the reconciler resolves a checkout that outlives its window, after recording
  the order's fate in the ledger. Checking out a hold already in checkout (or committed)
  returns its existing order id: the client may retry safely.

  The same script puts the order in the event's outbox and keeps the payment token and trace
  context in the hold record, so the payment message can be rebuilt and published again if
  the server dies before its publish (the relay, outbox_due.lua); the API takes the order out
  of the outbox once the queue accepted the message.

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user)
  KEYS[8]     outbox:{E}, order ids whose payment message may not be published yet
  ARGV[1]     hold id
  ARGV[2]     user id (must own the hold)
  ARGV[3]     now (epoch ms)
  ARGV[4]     end of the payment window (epoch ms)
  ARGV[5]     order id to assign when the hold is still held
  ARGV[6]     payment token (for the payment message)
  ARGV[7]     trace context of the checkout (JSON object, for the payment message)

  Returns JSON
    {ok=true, created=true|false, hold=<record>}
    {ok=false, error='not_found'}                  no such hold, or another user's
    {ok=false, error='expired'}                    the hold ran out (released now or before)
    {ok=false, error='released', reason=...}       the hold was released for another reason
]]
-- @include "end_hold.lua"

local raw = redis.call('HGET', KEYS[3], ARGV[1])
if not raw then return fail('not_found') end
local rec = cjson.decode(raw)
if rec.user_id ~= ARGV[2] then return fail('not_found') end
local now = tonumber(ARGV[3])

if rec.status == 'checkout' or rec.status == 'committed' then
  return cjson.encode({ok = true, created = false, hold = rec})
end
if rec.status == 'released' then
  if rec.end_reason == 'expired' then return fail('expired') end
  return fail('released', {reason = rec.end_reason or ''})
end
if rec.expires_at <= now then
  end_hold(rec, now, 'released', 'expired')
  return fail('expired')
end

rec.status = 'checkout'
rec.order_id = ARGV[5]
rec.expires_at = tonumber(ARGV[4])
rec.checkout_at = now
rec.payment_token = ARGV[6]
rec.trace = ARGV[7]
redis.call('HSET', KEYS[3], rec.id, cjson.encode(rec))
redis.call('HSET', KEYS[3], 'o:' .. ARGV[5], rec.id)
redis.call('ZREM', KEYS[4], rec.id)
redis.call('ZADD', KEYS[5], ARGV[4], rec.id)
redis.call('ZADD', KEYS[8], now, ARGV[5])
return cjson.encode({ok = true, created = true, hold = rec})
