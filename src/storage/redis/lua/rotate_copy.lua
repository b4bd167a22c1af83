-- Rotate, step 2 of 3, on the new key: KEYS[1].
-- ARGV: now, then every field of the old hash (field, value pairs).
-- Writes the session under its new key, one version on and slid (the
-- absolute deadline stays). Its id has not been answered to anyone yet,
-- so until step 3 it is reachable by no one.
-- Answers {0} when the key is taken, else the info.
local key, now = KEYS[1], tonumber(ARGV[1])
if redis.call('EXISTS', key) == 1 then return { 0 } end
hset_pairs(key, ARGV, 2, #ARGV)
redis.call('HDEL', key, ROTATED_TO, ROTATED_UNTIL)
local s = load(key)
s.v = s.v + 1
redis.call('HSET', key, VERSION, num(s.v))
slide(key, s, now)
return info(s)
