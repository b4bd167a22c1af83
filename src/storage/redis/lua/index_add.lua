-- A session joins its user's index: KEYS[1] the index's key (its own hash
-- tag: in a Cluster, not the session's slot).
-- ARGV: the member (`<digest>:<epoch>`), its score (ms it was added), how
-- long the index must live at least, ms ('' when some session of it may
-- live for ever: no expiry).
-- With an absolute timeout every member's session ends by a known time,
-- so the index expires by itself after the last of them; without one it
-- persists, cleaned of stale members by whoever reads it.
-- Answers how many members it holds after.
local key = KEYS[1]
local had = redis.call('EXISTS', key)
redis.call('ZADD', key, ARGV[2], ARGV[1])
if ARGV[3] == '' then
  redis.call('PERSIST', key)
else
  local ttl = redis.call('PTTL', key)
  if had == 0 or (ttl >= 0 and ttl < tonumber(ARGV[3])) then
    redis.call('PEXPIRE', key, ARGV[3])
  end
end
return redis.call('ZCARD', key)
