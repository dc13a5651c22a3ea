--[[
  waitlist_leave: a buyer leaves the waiting list, or declines the offer they were made.

  A waiting entry leaves the queue (the entries behind it move up). An offered entry whose
  hold is still held declines: the hold is released (reason 'declined') and its tickets go
  back to inv, for the next offer step. Idempotent: leaving an ended entry answers it as
  it is.

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user)
  KEYS[8]     wl:{E}   hash: entries and counters (see waitlist_join.lua)
  KEYS[9]     wlq:{E}  zset: waiting entry id -> slot * 2^32 + seq
  ARGV[1]     entry id
  ARGV[2]     user id
  ARGV[3]     now (epoch ms)

  Returns JSON
    {ok=true, entry=<entry view>, returned=true|false}   returned: tickets went back to inv
    {ok=false, error='not_found'}          no such entry, or another buyer's
    {ok=false, error='in_checkout'}        the offer is being paid for
    {ok=false, error='purchased'}          the offer was bought
]]
-- @include "end_hold.lua"
-- @include "waitlist.lua"

local raw = redis.call('HGET', KEYS[8], ARGV[1])
if not raw then return fail('not_found') end
local entry = cjson.decode(raw)
if entry.user_id ~= ARGV[2] then return fail('not_found') end
local now, returned = tonumber(ARGV[3]), false
if entry.status == 'waiting' then
  redis.call('ZREM', KEYS[9], entry.id)
  redis.call('HINCRBY', KEYS[8], 'n:' .. entry.ticket_type_id, -1)
  entry.status = 'left'
  entry.ended_at = now
  redis.call('HSET', KEYS[8], entry.id, cjson.encode(entry))
elseif entry.status == 'offered' then
  local hraw = redis.call('HGET', KEYS[3], entry.hold_id)
  local rec = hraw and cjson.decode(hraw)
  if rec and rec.status == 'checkout' then return fail('in_checkout') end
  if rec and rec.status == 'committed' then return fail('purchased') end
  if rec and rec.status == 'held' then
    end_hold(rec, now, 'released', 'declined')
    returned = true
  end
end
return cjson.encode({ok = true, entry = wl_view(entry), returned = returned})
