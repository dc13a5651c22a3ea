--[[
  lease_settle: end a lease only while its owner still holds it.

  The Idempotency-Key pending marker is a lease (lease_renew.lua). When the request ends, its
  owner either stores the answer in place of the marker or drops the marker so the client may
  retry. A request whose lease lapsed (its renewals failed) may meanwhile have been overtaken
  by a retry that claimed the key: then the key holds that retry's marker or answer, and this
  owner must change nothing.

  KEYS[1]  the leased key
  ARGV[1]  the value the owner wrote (its pending marker)
  ARGV[2]  the answer to store, or "" to drop the marker
  ARGV[3]  the answer's time to live (ms), when ARGV[2] is not ""

  Returns 1 when settled, 0 when the key holds something else or nothing.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
