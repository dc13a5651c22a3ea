--[[
  commit: a paid order is in the ledger; mark its hold committed (tickets stay sold).

  Idempotent: committing a committed hold answers ok with already=true.

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user)
  ARGV[1]     hold id
  ARGV[2]     order id (must be the hold's)
  ARGV[3]     now (epoch ms)

  Returns JSON
    {ok=true, already=true|false}
    {ok=false, error='missing'}            the hold record is gone (Redis lost data)
    {ok=false, error='order_mismatch'}
    {ok=false, error='released'}           released before the commit (should not happen:
                                           only the reconciler releases a checkout, after
                                           recording a failed order the ledger then refuses)
]]
-- @include "end_hold.lua"

local raw = redis.call('HGET', KEYS[3], ARGV[1])
if not raw then return fail('missing') end
local rec = cjson.decode(raw)
if rec.order_id ~= ARGV[2] then return fail('order_mismatch') end
if rec.status == 'committed' then return cjson.encode({ok = true, already = true}) end
if rec.status == 'released' then return fail('released') end
end_hold(rec, tonumber(ARGV[3]), 'committed', 'paid')
return cjson.encode({ok = true, already = false})
