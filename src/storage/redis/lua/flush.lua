-- Flush: KEYS[1] the session's key. ARGV: now.
-- Answers 1 when a live session was deleted, 0 when there was none. A
-- session a Rotate holds is already gone for its callers: not deleted.
local key, now = KEYS[1], tonumber(ARGV[1])
local s = load(key)
if not s then return 0 end
if now >= deadline(s) then
  redis.call('DEL', key)
  return 0
end
if s.r and s.t and now < s.t then return 0 end
redis.call('DEL', key)
return 1
