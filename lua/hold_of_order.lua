--[[
  hold_of_order: the hold an order id was given to, in one round trip (the order page asks
  this of every order still being paid for; two HGETs from the API were two round trips).

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user); only
              holds:{E} is read
  ARGV[1]     order id

  Returns JSON
    {ok=true, hold=<record>}
    {ok=false, error='not_found'}   no hold has this order (never checked out, or purged)
]]

local hold_id = redis.call('HGET', KEYS[3], 'o:' .. ARGV[1])
if not hold_id then return cjson.encode({ok = false, error = 'not_found'}) end
local raw = redis.call('HGET', KEYS[3], hold_id)
if not raw then return cjson.encode({ok = false, error = 'not_found'}) end
return cjson.encode({ok = true, hold = cjson.decode(raw)})
