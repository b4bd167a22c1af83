-- Get (and slide): KEYS[1] the session's key.
-- ARGV: now, '1' to count as activity, then the keys to read (none: all).
-- Answers {0} when not found, else the info, then the fields: with no keys
-- named, every field of the hash as HGETALL lists them (metadata included,
-- for the caller to skip), read once for both; else the values of the
-- named keys in order (nil for absent ones).
local key, now = KEYS[1], tonumber(ARGV[1])
local all, s
if #ARGV == 2 then
  all = redis.call('HGETALL', key)
  s = from_fields(all)
else
  s = load(key)
end
if not s then return { 0 } end
if now >= deadline(s) then
  redis.call('DEL', key)
  return { 0 }
end
if held(s, now) then return { 0 } end
if ARGV[2] == '1' then slide_read(key, s, now) end
local out = info(s)
if all then
  out[6] = all
else
  local values = {}
  for j = 3, #ARGV do
    -- A metadata field is never a data key.
    if string.byte(ARGV[j], 1) == 0 then
      values[j - 2] = false
    else
      values[j - 2] = redis.call('HGET', key, ARGV[j])
    end
  end
  out[6] = values
end
return out
