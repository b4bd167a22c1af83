-- CountSessions / ClearSessions, one session at a time: KEYS[1] a key that
-- SCAN found. ARGV: now, the namespace's name, '1' to delete it.
-- Answers 1 when the key holds a live session of that namespace (deleted
-- with '1'), else 0. Expired ones of the namespace are deleted too; a
-- session a Rotate holds is not live (its copy, under the new key, is).
local key, now = KEYS[1], tonumber(ARGV[1])
if redis.call('HGET', key, NAMESPACE) ~= ARGV[2] then return 0 end
local s = load(key)
if not s then return 0 end
local expired = now >= deadline(s)
local alive = not expired and not (s.r and s.t and now < s.t)
if ARGV[3] == '1' or expired then redis.call('DEL', key) end
if alive then return 1 end
return 0
