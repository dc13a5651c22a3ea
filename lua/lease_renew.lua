--[[
  lease_renew: extend a lease only while its owner still holds it.

  The Idempotency-Key pending marker is a lease: a short TTL that the running request renews,
  so the marker of a request whose server died expires within seconds. Renewing compares the
  whole value (it names the owner), so a late renewal never extends another owner's marker
  nor the final answer that replaced it.

  KEYS[1]  the leased key
  ARGV[1]  the value the owner wrote
  ARGV[2]  new time to live (ms)

  Returns 1 when renewed, 0 when the key holds something else or nothing.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
