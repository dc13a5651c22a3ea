--[[
  waitlist_offer: give tickets that came back to the waiting list, first come, first served.

  Per ticket type, the head entry (the earliest waiting) gets an offer when enough tickets
  of its type are available: a normal hold for that buyer (status held, flagged
  waitlist=<entry id>, its id the entry's id) that expires at ARGV[2]; inv and the buyer's
  per-event count move as for any hold. The entry leaves the queue as 'offered' and goes
  into wlnote until its email is enqueued. A head that does not fit blocks its type (the
  entries behind it wait: first come, first served); other types carry on. A head that
  can never be served lapses, whatever is available, and the next is considered: its buyer
  has meanwhile reached the per-user limit, or its quantity is above the type's capacity
  (meta cap:<type>, lowered since it joined). An unclaimed offer is a hold that expires: its tickets return to inv, still gated by
  hold.lua while others wait, and the next call offers them to the next entry.

  Also answers up to ARGV[3] entries of wlnote (offers whose email is not enqueued yet,
  made now or by an earlier call that crashed before enqueuing) with what the email needs;
  the caller removes each from wlnote once its email is in the SQL outbox. A note whose
  offer already ended is dropped here: no email for it any more.

  First, an O(1) check: nothing to do when nobody waits and no note is pending. Then releases up to ARGV[3] expired
  holds (as hold.lua does), so expired holds and offers are served even before the
  reconciler's sweep. No offers while the event is not on sale.

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user)
  KEYS[8]     wl:{E}      hash: entries and counters (see waitlist_join.lua)
  KEYS[9]     wlq:{E}     zset: waiting entry id -> slot * 2^32 + seq
  KEYS[10]    wlnote:{E}  zset: offered entry id -> offer time, until its email is enqueued
  ARGV[1]     now (epoch ms)
  ARGV[2]     offers expire at (epoch ms)
  ARGV[3]     max offers to make, and max expired holds to release first, in this call

  Returns JSON
    {ok=true, offers=[{entry_id, user_id, hold_id, ticket_type_id, quantity}, ...],
     lapsed=n, notes=[{entry_id, user_id, hold_id, ticket_type_id, quantity, unit_price,
     total, currency, offer_expires_at}, ...]}            lapsed: entries dropped at the limit; call again while
                                                 #offers + lapsed equals ARGV[3]
    {ok=false, error='not_loaded'}               inventory keys missing: load first
]]
-- @include "end_hold.lua"
-- @include "waitlist.lua"

local EMPTY = '{"ok":true,"offers":[],"lapsed":0,"notes":[]}'
if redis.call('ZCARD', KEYS[9]) == 0 and redis.call('ZCARD', KEYS[10]) == 0 then
  return EMPTY
end
if redis.call('EXISTS', KEYS[1]) == 0 then return fail('not_loaded') end
local now, expires_at, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
sweep_expired(now, max)
local meta = redis.call('HMGET', KEYS[2], 'status', 'currency', 'limit')
local limit = tonumber(meta[3])

local offers, lapsed = {}, 0
local types = tonumber(redis.call('HGET', KEYS[8], 'types') or '0')
if meta[1] ~= 'on_sale' then types = 0 end  -- no offers while sales are paused or over
for slot = 1, types do
  local tt = redis.call('HGET', KEYS[8], 'ts:' .. slot)
  local lo, hi = wl_range(slot)
  while #offers + lapsed < max and tonumber(redis.call('HGET', KEYS[8], 'n:' .. tt) or '0') > 0 do
    local head = redis.call('ZRANGEBYSCORE', KEYS[9], lo, hi, 'LIMIT', 0, 1)[1]
    if not head then  -- the count disagrees with the queue: the queue is the truth
      redis.call('HSET', KEYS[8], 'n:' .. tt, 0)
      break
    end
    local entry = cjson.decode(redis.call('HGET', KEYS[8], head))
    local held = tonumber(redis.call('HGET', KEYS[7], entry.user_id) or '0')
    local cap = tonumber(redis.call('HGET', KEYS[2], 'cap:' .. tt) or '-1')
    -- A head that can never be served lapses before it could block its type: its buyer
    -- reached the per-user limit elsewhere since joining, or the organiser lowered the
    -- capacity below its quantity.
    local hopeless = held + entry.quantity > limit or (cap >= 0 and entry.quantity > cap)
    local price = redis.call('HGET', KEYS[2], 'price:' .. tt)
    if not hopeless then
      local available = tonumber(redis.call('HGET', KEYS[1], tt) or '0')
      if not price or available < entry.quantity then break end  -- the head blocks its type
    end
    if hopeless then
      entry.status = 'lapsed'
      entry.ended_at = now
      lapsed = lapsed + 1
    else
      local rec = {id = entry.id, user_id = entry.user_id, status = 'held',
                   items = {{ticket_type_id = tt, quantity = entry.quantity,
                             unit_price = tonumber(price)}},
                   total = entry.quantity * tonumber(price), currency = meta[2],
                   created_at = now, expires_at = expires_at, waitlist = entry.id}
      redis.call('HINCRBY', KEYS[1], tt, -entry.quantity)
      redis.call('HINCRBY', KEYS[7], entry.user_id, entry.quantity)
      redis.call('HSET', KEYS[3], rec.id, cjson.encode(rec))
      redis.call('ZADD', KEYS[4], expires_at, rec.id)
      entry.status = 'offered'
      entry.hold_id = rec.id
      entry.offered_at = now
      entry.offer_expires_at = expires_at
      redis.call('ZADD', KEYS[10], now, entry.id)
      offers[#offers + 1] = {entry_id = entry.id, user_id = entry.user_id, hold_id = rec.id,
                             ticket_type_id = tt, quantity = entry.quantity}
    end
    redis.call('HSET', KEYS[8], entry.id, cjson.encode(entry))
    redis.call('ZREM', KEYS[9], entry.id)
    redis.call('HINCRBY', KEYS[8], 'n:' .. tt, -1)
  end
  if #offers + lapsed >= max then break end
end
local notes = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[10], 0, max - 1)) do
  local eraw = redis.call('HGET', KEYS[8], id)
  local entry = eraw and cjson.decode(eraw)
  local hraw = entry and entry.hold_id and redis.call('HGET', KEYS[3], entry.hold_id)
  local rec = hraw and cjson.decode(hraw)
  if rec and rec.status == 'held' then
    local it = rec.items[1]
    notes[#notes + 1] = {entry_id = id, user_id = rec.user_id, hold_id = rec.id,
                         ticket_type_id = it.ticket_type_id, quantity = it.quantity,
                         unit_price = it.unit_price, total = rec.total,
                         currency = rec.currency, offer_expires_at = rec.expires_at}
  else
    redis.call('ZREM', KEYS[10], id)  -- the offer ended (bought, declined, expired)
  end
end
return cjson.encode({ok = true, offers = offers, lapsed = lapsed, notes = notes})
