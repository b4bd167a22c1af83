-- Rotate, step 3 of 3, on the old key: KEYS[1].
-- ARGV: the new key, then 'commit' (delete the old session: the Rotate
-- answers the new id) or 'abort' (step 2 failed: release the hold, so the
-- old id works again at once).
-- Answers 1 when this Rotate still held the session, else 0 (its hold ran
-- out and another operation took over: the Rotate must fail).
local key = KEYS[1]
if redis.call('HGET', key, ROTATED_TO) ~= ARGV[1] then return 0 end
if ARGV[2] == 'commit' then
  redis.call('DEL', key)
else
  redis.call('HDEL', key, ROTATED_TO, ROTATED_UNTIL)
end
return 1
