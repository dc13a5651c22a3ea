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

  When the payments queue is the local Redis stream on this same (non-clustered) server,
  the script can queue the payment message itself (ARGV[10]): the message enters the stream
  in the step that creates the order, so there is no publish to lose and no outbox entry; it
  also marks the order id as seen for the queue's duplicate detection, as bus_publish.lua
  does. That saves the API two round trips per checkout (issue 11).

  When ARGV[8] is given, first takes the buyer's checkout rate (the bucket rate_limit.lua
  keeps; only on a non-clustered Redis, where a script may touch keys of any slot: it saves
  the API a round trip per checkout, as hold.lua does with the hold rate). Every request
  costs a token, a retry of a checkout done already too, as with the separate call.

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user)
  KEYS[8]     outbox:{E}, order ids whose payment message may not be published yet
  then, each only when its ARGV says so (non-clustered Redis only):
  KEYS[n]     rl:checkout:user:<id>, the buyer's checkout rate (string: theoretical arrival
              time, ms; as in rate_limit.lua), with ARGV[8]
  KEYS[n+1]   {payments}:dedup:<ARGV[5]>, the queue's duplicate detection, with ARGV[10]
  KEYS[n+2]   {payments}:stream, the stream the payment consumers read, with ARGV[10]
  ARGV[1]     hold id
  ARGV[2]     user id (must own the hold)
  ARGV[3]     now (epoch ms)
  ARGV[4]     end of the payment window (epoch ms)
  ARGV[5]     order id to assign when the hold is still held
  ARGV[6]     payment token (for the payment message)
  ARGV[7]     trace context of the checkout (JSON object, for the payment message)
  ARGV[8]     checkout requests allowed per user per window, or '' (no bucket key)
  ARGV[9]     that window (ms), or ''
  ARGV[10]    optional: the queue's duplicate-detection window (ms): queue the message here
  ARGV[11]    with ARGV[10]: the event id (for the message)

  Returns JSON
    {ok=true, created=true|false, published=true?, hold=<record>}   published: the payment
                                                   message is in the stream (ARGV[10])
    {ok=false, error='rate_limited', retry_after_ms=...}  too many checkouts: wait
    {ok=false, error='not_found'}                  no such hold, or another user's
    {ok=false, error='expired'}                    the hold ran out (released now or before)
    {ok=false, error='released', reason=...}       the hold was released for another reason
]]
-- @include "end_hold.lua"
-- @include "gcra.lua"

local now = tonumber(ARGV[3])
local n = 9  -- the next optional key
if ARGV[8] and ARGV[8] ~= '' then
  local tat = tonumber(redis.call('GET', KEYS[n]) or '0')
  local ok, next_tat, wait = gcra(tat, now, tonumber(ARGV[8]), tonumber(ARGV[9]), 1)
  if not ok then return fail('rate_limited', {retry_after_ms = wait}) end
  redis.call('SET', KEYS[n], tostring(next_tat), 'PX', math.max(1, math.ceil(next_tat - now)))
  n = n + 1
end

local raw = redis.call('HGET', KEYS[3], ARGV[1])
if not raw then return fail('not_found') end
local rec = cjson.decode(raw)
if rec.user_id ~= ARGV[2] then return fail('not_found') end

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
if ARGV[10] and ARGV[10] ~= '' then
  -- The message PaymentRequest.to_json writes (shared/models.py), from the record.
  local items = {}
  for i, item in ipairs(rec.items) do
    items[i] = {ticket_type_id = item.ticket_type_id, quantity = item.quantity,
                unit_price = item.unit_price}
  end
  local message = cjson.encode({
    order_id = ARGV[5], hold_id = rec.id, event_id = ARGV[11], user_id = rec.user_id,
    items = items, amount = rec.total, currency = rec.currency, payment_token = ARGV[6],
    created_at = now, trace = cjson.decode(ARGV[7])})
  redis.call('SET', KEYS[n], '1', 'PX', ARGV[10])
  redis.call('XADD', KEYS[n + 1], '*', 'message_id', ARGV[5], 'body', message)
  return cjson.encode({ok = true, created = true, published = true, hold = rec})
end
redis.call('ZADD', KEYS[8], now, ARGV[5])
return cjson.encode({ok = true, created = true, hold = rec})
