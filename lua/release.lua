--[[
  release: give a hold's tickets back (buyer cancels, payment declined, order failed).

  Idempotent: releasing a released hold answers ok with already=true and changes nothing.
  A buyer (ARGV[2] set) may release only their own hold and only while it is held; the
  system (ARGV[2] empty, ARGV[5] = '1') may also release a hold in checkout.

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user)
  ARGV[1]     hold id
  ARGV[2]     user id, or '' for the system
  ARGV[3]     now (epoch ms)
  ARGV[4]     reason recorded on the hold (cancelled, payment_declined, sold_out, ...)
  ARGV[5]     '1' when a hold in checkout may be released, else '0'

  Returns JSON
    {ok=true, already=true|false, hold=<record>}
    {ok=false, error='not_found'}          no such hold, or another user's
    {ok=false, error='in_checkout'}        payment in progress and ARGV[5] is '0'
    {ok=false, error='committed'}          already paid for
]]
-- @include "end_hold.lua"

local raw = redis.call('HGET', KEYS[3], ARGV[1])
if not raw then return fail('not_found') end
local rec = cjson.decode(raw)
if ARGV[2] ~= '' and rec.user_id ~= ARGV[2] then return fail('not_found') end
if rec.status == 'released' then return cjson.encode({ok = true, already = true, hold = rec}) end
if rec.status == 'committed' then return fail('committed') end
if rec.status == 'checkout' and ARGV[5] ~= '1' then return fail('in_checkout') end
end_hold(rec, tonumber(ARGV[3]), 'released', ARGV[4])
return cjson.encode({ok = true, already = false, hold = rec})
