--[[
  bus_deadletter: move a message past its max delivery count to the dead-letter stream
  and acknowledge it on the main stream, in one step (never lost, never in both).

  KEYS[1]  {payments}:stream      the main stream
  KEYS[2]  {payments}:dlq         the dead-letter stream
  ARGV[1]  consumer group of the main stream
  ARGV[2]  entry id on the main stream
  ARGV[3]  message id
  ARGV[4]  body (JSON)
  ARGV[5]  delivery count reached
  ARGV[6]  dead-letter reason

  Returns JSON {ok=true, id=<dead-letter entry id>}
]]
local id = redis.call('XADD', KEYS[2], '*', 'message_id', ARGV[3], 'body', ARGV[4],
  'delivery_count', ARGV[5], 'reason', ARGV[6])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return cjson.encode({ok = true, id = id})
