--[[
  bus_publish: append a message to the local payments stream once per message id, the
  duplicate detection a Service Bus queue gives (same id within the window -> dropped).

  KEYS[1]  {payments}:dedup:<message id>   string, expires after the detection window
  KEYS[2]  {payments}:stream               the stream the consumers read
  ARGV[1]  message id
  ARGV[2]  body (JSON)
  ARGV[3]  duplicate-detection window (ms)

  Returns JSON {ok=true, id=<stream entry id>} or {ok=true, duplicate=true}
]]
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[3]) then
  return cjson.encode({ok = true, duplicate = true})
end
local id = redis.call('XADD', KEYS[2], '*', 'message_id', ARGV[1], 'body', ARGV[2])
return cjson.encode({ok = true, id = id})
