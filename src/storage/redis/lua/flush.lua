-- Flush: KEYS[1] the session's key. ARGV: now.
-- Answers {1, user, epoch} when a live session was deleted (false for an
-- unbound one's, so the caller can take it out of its user's index), {0}
-- when there was none. A session a Rotate holds is already gone for its
-- callers: not deleted.
local key, now = KEYS[1], tonumber(ARGV[1])
local s = live(key, now)
if not s then return { 0 } end
local b = redis.call('HMGET', key, USER, EPOCH)
redis.call('DEL', key)
return { 1, b[1], b[2] }
