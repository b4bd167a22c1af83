-- BindUser: KEYS[1] the session's key.
-- ARGV: now, the user ('' to unbind), the binding's epoch, user agent, ip.
-- The caller has already put `<digest>:<epoch>` in the new user's index,
-- so the session is never bound without being findable. Not a change of
-- data (the version stays) nor activity.
-- Answers {0} not found, else the info, then the user and epoch it was
-- bound with before (false for none), whose index member is now stale,
-- and its absolute deadline (false for none), which the index outlives.
local key, now = KEYS[1], tonumber(ARGV[1])
local s = live(key, now)
if not s then return { 0 } end
local before = redis.call('HMGET', key, USER, EPOCH)
if ARGV[2] == '' then
  redis.call('HDEL', key, USER, EPOCH, USER_AGENT, IP)
else
  redis.call('HSET', key, USER, ARGV[2], EPOCH, ARGV[3], USER_AGENT, ARGV[4], IP, ARGV[5])
end
local out = info(s)
out[6] = before[1]
out[7] = before[2]
out[8] = s.a or false
return out
