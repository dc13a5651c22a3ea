--[[
  outbox_due: the checkouts of an event whose payment message may still be unpublished.

  checkout.lua adds each new order to outbox:{E} (scored by the time of the checkout); the
  API removes it once the queue accepted its message. An entry older than the due time
  therefore belongs to a server that died (or a queue that refused) between the checkout and
  the publish. This script answers those whose hold is still in checkout, re-scoring them
  to `now` so the next pass (of this relay or another) waits before publishing again, and
  drops the entries whose hold has moved on (committed, released, purged).

  KEYS[1..7]  the event key set (inv, meta, holds, hexp, hpay, hdone, per_user)
  KEYS[8]     outbox:{E}
  ARGV[1]     now (epoch ms)
  ARGV[2]     due time: entries scored at or before it are answered (epoch ms)
  ARGV[3]     at most this many entries

  Returns JSON {ok=true, due=[<hold record>...], dropped=<n>}
]]
local now = tonumber(ARGV[1])
local due = {}
local dropped = 0
local orders = redis.call('ZRANGEBYSCORE', KEYS[8], '-inf', ARGV[2], 'LIMIT', 0,
                          tonumber(ARGV[3]))
for _, order_id in ipairs(orders) do
  local hold_id = redis.call('HGET', KEYS[3], 'o:' .. order_id)
  local raw = hold_id and redis.call('HGET', KEYS[3], hold_id)
  local rec = raw and cjson.decode(raw)
  if rec and rec.status == 'checkout' and rec.order_id == order_id then
    redis.call('ZADD', KEYS[8], now, order_id)
    due[#due + 1] = rec
  else
    redis.call('ZREM', KEYS[8], order_id)
    dropped = dropped + 1
  end
end
return cjson.encode({ok = true, due = due, dropped = dropped})
