--[[
  waitlist_join: a buyer joins an event's waiting list for one ticket type and a quantity.

  Allowed only while the type is sold out for regular buyers (none available, or others
  already waiting: their returned tickets are theirs first) and the event is on sale, for
  1..(per-user limit minus what the buyer holds or bought). One active entry per buyer and
  type: joining again answers the existing entry (already=true). A buyer's ended entry of
  the type (left, expired, purchased) is replaced by the new one.

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user)
  KEYS[8]     wl:{E}   hash: entry id -> entry JSON; u:<user>:<type> -> the buyer's latest
              entry id; n:<type> -> waiting entries of the type; t:<type> -> its slot,
              ts:<slot> -> type; types -> slots used; seq -> entries ever joined
  KEYS[9]     wlq:{E}  zset: waiting entry id -> slot * 2^32 + seq (first come, first served)
  ARGV[1]     new entry id
  ARGV[2]     user id
  ARGV[3]     ticket type id
  ARGV[4]     quantity
  ARGV[5]     now (epoch ms)

  Returns JSON
    {ok=true, already=true|false, entry=<entry view, with place>}
    {ok=false, error='not_loaded'}                 inventory keys missing: load, retry
    {ok=false, error='not_on_sale', status=...}
    {ok=false, error='unknown_ticket_type'}
    {ok=false, error='bad_quantity'}
    {ok=false, error='over_capacity', capacity=n}  more than the type will ever have
    {ok=false, error='tickets_available', available=n}   buy them instead
    {ok=false, error='per_user_limit', limit=..., held=...}
]]
-- @include "end_hold.lua"
-- @include "waitlist.lua"

if redis.call('EXISTS', KEYS[1]) == 0 then return fail('not_loaded') end
local user, tt, now = ARGV[2], ARGV[3], tonumber(ARGV[5])
local meta = redis.call('HMGET', KEYS[2], 'status', 'limit', 'price:' .. tt)
if meta[1] ~= 'on_sale' then return fail('not_on_sale', {status = meta[1] or ''}) end
local avail = redis.call('HGET', KEYS[1], tt)
if not avail or not meta[3] then return fail('unknown_ticket_type') end
local q = tonumber(ARGV[4])
if not q or q < 1 or q ~= math.floor(q) then return fail('bad_quantity') end

local ukey = 'u:' .. user .. ':' .. tt
local previous_id = redis.call('HGET', KEYS[8], ukey)
local previous = previous_id and redis.call('HGET', KEYS[8], previous_id)
if previous then
  local active, view = wl_active(cjson.decode(previous))
  if active then return cjson.encode({ok = true, already = true, entry = view}) end
end

local waiting = tonumber(redis.call('HGET', KEYS[8], 'n:' .. tt) or '0')
if tonumber(avail) > 0 and waiting == 0 then
  return fail('tickets_available', {available = tonumber(avail)})
end
local limit = tonumber(meta[2])
local held = tonumber(redis.call('HGET', KEYS[7], user) or '0')
if held + q > limit then return fail('per_user_limit', {limit = limit, held = held}) end
local cap = tonumber(redis.call('HGET', KEYS[2], 'cap:' .. tt) or '-1')
if cap >= 0 and q > cap then return fail('over_capacity', {capacity = cap}) end

local slot = tonumber(redis.call('HGET', KEYS[8], 't:' .. tt))
if not slot then
  slot = redis.call('HINCRBY', KEYS[8], 'types', 1)
  redis.call('HSET', KEYS[8], 't:' .. tt, slot, 'ts:' .. slot, tt)
end
local seq = redis.call('HINCRBY', KEYS[8], 'seq', 1)
local entry = {id = ARGV[1], user_id = user, ticket_type_id = tt, quantity = q, seq = seq,
               joined_at = now, status = 'waiting'}
if previous_id then redis.call('HDEL', KEYS[8], previous_id) end  -- an ended entry: forget it
redis.call('HSET', KEYS[8], ARGV[1], cjson.encode(entry), ukey, ARGV[1])
redis.call('HINCRBY', KEYS[8], 'n:' .. tt, 1)
redis.call('ZADD', KEYS[9], wl_score(slot, seq), ARGV[1])
return cjson.encode({ok = true, already = false, entry = wl_view(entry)})
