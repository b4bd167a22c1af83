-- A look at a session for its user's index (listing, the per-user limit,
-- bound_user): KEYS[1] the session's key. ARGV: now.
-- Changes nothing but an expired session, which is deleted.
-- Answers {0} when there is no live session, {3} while a Rotate holds it,
-- else {1, created, last seen, deadline, namespace, user, epoch, user
-- agent, ip} (false for absent fields).
local key, now = KEYS[1], tonumber(ARGV[1])
local s = unexpired(key, now)
if not s then return { 0 } end
if held(s, now) then return { 3 } end
local b = redis.call('HMGET', key, NAMESPACE, USER, EPOCH, USER_AGENT, IP)
-- The last activity: the idle deadline less the idle timeout.
local seen = s.d - s.i
if seen < s.c then seen = s.c end
return { 1, s.c, seen, deadline(s), b[1], b[2], b[3], b[4], b[5] }
