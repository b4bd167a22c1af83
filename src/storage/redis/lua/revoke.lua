-- RevokeSession / RevokeUserSessions / eviction, one session: KEYS[1] the
-- session's key. ARGV: now, the namespace's name, the user it must be
-- bound to ('' any), the epoch it must be bound with ('' any).
-- Deletes the session if it is live and so bound. One a Rotate holds is
-- deleted too: that Rotate then fails (its last step finds no hold), so a
-- "log out everywhere" is never escaped by rotating at the same moment.
-- Answers {1, user, epoch} when it ended a session (false for unbound),
-- {2} when there is a session but not so bound, {0} when there is none.
local key, now = KEYS[1], tonumber(ARGV[1])
if not unexpired(key, now) then return { 0 } end
local b = redis.call('HMGET', key, NAMESPACE, USER, EPOCH)
if b[1] ~= ARGV[2] then return { 2 } end
if ARGV[3] ~= '' and b[2] ~= ARGV[3] then return { 2 } end
if ARGV[4] ~= '' and b[3] ~= ARGV[4] then return { 2 } end
redis.call('DEL', key)
return { 1, b[2], b[3] }
