-- Touch: KEYS[1] the session's key.
-- ARGV: now, a new idle timeout in ms ('' to keep the session's).
-- A new idle timeout restarts the idle deadline from now, and may shorten
-- it (Django's set_expiry). Answers {0} not found, else the info.
local key, now = KEYS[1], tonumber(ARGV[1])
local s = live(key, now)
if not s then return { 0 } end
if ARGV[2] ~= '' then
  s.i = tonumber(ARGV[2])
  s.d = now + s.i
  redis.call('HSET', key, IDLE, num(s.i), IDLE_AT, num(s.d))
  arm(key, s, now)
else
  slide(key, s, now)
end
return info(s)
