-- Rotate, step 1 of 3, on the old key: KEYS[1].
-- ARGV: now, the new key, until when the Rotate holds the session (ms).
-- Marks the session as moving to the new key: from now on no operation
-- finds it here, so nothing can change it while it is copied. If sessiond
-- dies before step 3, the hold runs out and the session is usable again
-- under its old id, unchanged.
-- Answers {0} not found, else {1, the new key of an earlier abandoned
-- Rotate (or nil), every field as HGETALL lists them}.
local key, now = KEYS[1], tonumber(ARGV[1])
local s = live(key, now)
if not s then return { 0 } end
local abandoned = s.r or false
redis.call('HSET', key, ROTATED_TO, ARGV[2], ROTATED_UNTIL, ARGV[3])
return { 1, abandoned, redis.call('HGETALL', key) }
