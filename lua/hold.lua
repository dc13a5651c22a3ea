--[[
  hold: take tickets of one or more ticket types for a user, all or nothing.

  First answers not_loaded if the inventory is missing (changing nothing, so the retry after
  loading costs no extra rate). Then, when KEYS[10] is given, takes the buyer's cross-event
  hold rate (the bucket rate_limit.lua keeps; only on a non-clustered Redis, where a script
  may touch keys of any slot: it saves the API a round trip per hold). Then applies the
  buyer's request rate limit for this event (KEYS[8], GCRA), so a bot hammering one
  on-sale is slowed inside the same round trip. Then
  releases up to ARGV[5]
  expired holds of the event, so availability heals even when the reconciler runs late.
  Then checks, in order: inventory loaded, event on sale, every ticket type known and every
  quantity a positive integer, the per-user limit, and availability of every line. Only
  when all pass does it decrement anything. A type with buyers on its waiting list (KEYS[9]
  n:<type> > 0) counts as sold out: tickets that come back while people wait are theirs,
  offered by waitlist_offer.lua, never taken by whoever refreshes first.

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user)
  KEYS[8]     rate:{E}  hash: user id -> theoretical arrival time (ms) of their hold requests
  KEYS[9]     wl:{E}  hash: the waiting list (n:<type> = entries waiting for that type)
  KEYS[10]    optional, non-clustered Redis only: rl:holds:user:<id>, the buyer's hold rate
              across events (string: theoretical arrival time, ms; as in rate_limit.lua)
  ARGV[1]     hold id
  ARGV[2]     user id
  ARGV[3]     now (epoch ms)
  ARGV[4]     expires at (epoch ms)
  ARGV[5]     max expired holds to release first
  ARGV[6]     hold requests allowed per user per window for this event
  ARGV[7]     that window (ms)
  ARGV[8]     promo code ('' for none): meta field promo:<code> holds its offer
              {kind='percent'|'amount', value, valid_from, valid_to (ms, 0 = open), max_uses
              (0 = unlimited)}; meta field promo_uses:<code> counts holds and sales using it
  ARGV[9]     hold requests allowed per user per window across events (with KEYS[10])
  ARGV[10]    that window (ms)
  ARGV[11..]  pairs: ticket type id, quantity

  Returns JSON
    {ok=true, hold=<record>}
    {ok=false, error='rate_limited', retry_after_ms=..., scope='event'|'buyer'}
                                                         too many hold requests: wait
    {ok=false, error='not_loaded'}                       inventory keys missing: load, retry
    {ok=false, error='not_on_sale', status=...}
    {ok=false, error='unknown_ticket_type', ticket_type_id=...}
    {ok=false, error='bad_quantity', ticket_type_id=...}
    {ok=false, error='per_user_limit', limit=..., held=...}
    {ok=false, error='sold_out', ticket_type_id=..., available=...}
    {ok=false, error='unknown_promo'} / 'promo_not_valid' / 'promo_used_up'
]]
-- @include "end_hold.lua"
-- @include "gcra.lua"

if redis.call('EXISTS', KEYS[1]) == 0 then return fail('not_loaded') end

local now = tonumber(ARGV[3])
if KEYS[10] then
  local buyer_tat = tonumber(redis.call('GET', KEYS[10]) or '0')
  local ok, next_tat, buyer_wait = gcra(buyer_tat, now, tonumber(ARGV[9]), tonumber(ARGV[10]), 1)
  if not ok then return fail('rate_limited', {retry_after_ms = buyer_wait, scope = 'buyer'}) end
  redis.call('SET', KEYS[10], tostring(next_tat), 'PX', math.max(1, math.ceil(next_tat - now)))
end
local window = tonumber(ARGV[7])
local allowed, tat, wait = gcra(tonumber(redis.call('HGET', KEYS[8], ARGV[2]) or '0'), now,
                                tonumber(ARGV[6]), window, 1)
if not allowed then return fail('rate_limited', {retry_after_ms = wait, scope = 'event'}) end
redis.call('HSET', KEYS[8], ARGV[2], tostring(tat))
redis.call('PEXPIRE', KEYS[8], window * 2)  -- idle events forget their buyers
sweep_expired(now, tonumber(ARGV[5]))

local meta = redis.call('HMGET', KEYS[2], 'status', 'currency', 'limit')
if meta[1] ~= 'on_sale' then return fail('not_on_sale', {status = meta[1] or ''}) end

local items, want, total = {}, 0, 0
for i = 11, #ARGV, 2 do
  local tt, q = ARGV[i], tonumber(ARGV[i + 1])
  local price = redis.call('HGET', KEYS[2], 'price:' .. tt)
  local avail = redis.call('HGET', KEYS[1], tt)
  if not price or not avail then return fail('unknown_ticket_type', {ticket_type_id = tt}) end
  if not q or q < 1 or q ~= math.floor(q) then
    return fail('bad_quantity', {ticket_type_id = tt})
  end
  if tonumber(redis.call('HGET', KEYS[9], 'n:' .. tt) or '0') > 0 then
    avail = 0  -- gated: returned tickets wait for the waiting list's offer step
  end
  items[#items + 1] = {ticket_type_id = tt, quantity = q, unit_price = tonumber(price),
                       available = tonumber(avail)}
  want = want + q
  total = total + q * tonumber(price)
end
if #items == 0 then return fail('bad_quantity', {ticket_type_id = ''}) end

local promo, discount = nil, 0
if ARGV[8] ~= '' then
  local raw = redis.call('HGET', KEYS[2], 'promo:' .. ARGV[8])
  if not raw then return fail('unknown_promo') end
  promo = cjson.decode(raw)
  if (promo.valid_from > 0 and now < promo.valid_from) or
     (promo.valid_to > 0 and now >= promo.valid_to) then
    return fail('promo_not_valid')
  end
  local used = tonumber(redis.call('HGET', KEYS[2], 'promo_uses:' .. ARGV[8]) or '0')
  if promo.max_uses > 0 and used >= promo.max_uses then return fail('promo_used_up') end
  if promo.kind == 'percent' then
    discount = math.floor(total * promo.value / 100)
  else
    discount = math.min(promo.value, total)
  end
end

local limit = tonumber(meta[3])
local held = tonumber(redis.call('HGET', KEYS[7], ARGV[2]) or '0')
if held + want > limit then return fail('per_user_limit', {limit = limit, held = held}) end

for _, it in ipairs(items) do
  if it.available < it.quantity then
    return fail('sold_out', {ticket_type_id = it.ticket_type_id, available = it.available})
  end
end

for _, it in ipairs(items) do
  redis.call('HINCRBY', KEYS[1], it.ticket_type_id, -it.quantity)
  it.available = nil
end
redis.call('HINCRBY', KEYS[7], ARGV[2], want)

local rec = {id = ARGV[1], user_id = ARGV[2], status = 'held', items = items,
             total = total - discount, currency = meta[2], created_at = now,
             expires_at = tonumber(ARGV[4])}
if promo then
  redis.call('HINCRBY', KEYS[2], 'promo_uses:' .. ARGV[8], 1)
  rec.promo = ARGV[8]
  rec.discount = discount
end
redis.call('HSET', KEYS[3], ARGV[1], cjson.encode(rec))
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
return cjson.encode({ok = true, hold = rec})
