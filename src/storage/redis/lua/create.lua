-- Create: KEYS[1] the new session's key.
-- ARGV: now, idle ms, absolute deadline ms ('' for none), data bytes,
-- data key count, the namespace's name, the user it is bound to ('' for
-- none), the binding's epoch, user agent and ip, then key, value pairs.
-- Answers 1, or 0 when the key is taken (the caller draws another id).
local key, now = KEYS[1], tonumber(ARGV[1])
if redis.call('EXISTS', key) == 1 then return 0 end
local s = { v = 1, c = now, i = tonumber(ARGV[2]), d = now + tonumber(ARGV[2]),
  a = tonumber(ARGV[3]) }
redis.call('HSET', key, VERSION, 1, CREATED, num(now), IDLE, num(s.i),
  IDLE_AT, num(s.d), BYTES, ARGV[4], KEYS_N, ARGV[5], NAMESPACE, ARGV[6])
if s.a then redis.call('HSET', key, ABSOLUTE, num(s.a)) end
if ARGV[7] ~= '' then
  redis.call('HSET', key, USER, ARGV[7], EPOCH, ARGV[8], USER_AGENT, ARGV[9], IP, ARGV[10])
end
hset_pairs(key, ARGV, 11, #ARGV)
arm(key, s, now)
return 1
