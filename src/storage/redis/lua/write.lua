-- Set with a mode (whole-object stores): KEYS[1] the session's key.
-- ARGV: now, max keys, max session bytes, expected version ('' for any),
-- '1' to replace the whole map, '1' to create when missing, a new idle
-- timeout in ms ('' to keep), the idle timeout of a session created, its
-- absolute deadline ('' for none), the namespace's name, the number of
-- upserts, upsert key, value pairs, then the keys to remove.
-- Every change applies, or none does. Answers {0} not found, {2, version}
-- version mismatch, {3, keys} too many keys, {4, bytes} session too large,
-- else the info (with a sixth figure, 1, when it created the session).
local key, now = KEYS[1], tonumber(ARGV[1])
local max_keys, max_bytes = tonumber(ARGV[2]), tonumber(ARGV[3])
local expected, replace, create = ARGV[4], ARGV[5] == '1', ARGV[6] == '1'
local idle = ARGV[7]
local nup = tonumber(ARGV[11])
local up_from, up_to = 12, 11 + 2 * nup
local s = live(key, now)
if not s then
  -- A session a Rotate holds still exists: it is not made again.
  if not create or expected ~= '' or redis.call('EXISTS', key) == 1 then return { 0 } end
  local b = 0
  for k = up_from, up_to, 2 do b = b + #ARGV[k] + #ARGV[k + 1] end
  if nup > max_keys then return { 3, nup } end
  if b > max_bytes then return { 4, b } end
  local i = tonumber(ARGV[8])
  if idle ~= '' then i = tonumber(idle) end
  s = { v = 1, c = now, i = i, d = now + i, a = tonumber(ARGV[9]) }
  redis.call('HSET', key, VERSION, 1, CREATED, num(now), IDLE, num(i),
    IDLE_AT, num(s.d), BYTES, num(b), KEYS_N, num(nup), NAMESPACE, ARGV[10])
  if s.a then redis.call('HSET', key, ABSOLUTE, num(s.a)) end
  if nup > 0 then hset_pairs(key, ARGV, up_from, up_to) end
  arm(key, s, now)
  local out = info(s)
  out[6] = 1 -- created
  return out
end
if expected ~= '' and tonumber(expected) ~= s.v then return { 2, s.v } end
local n, b, changed
local removed = {}
if replace then
  n, b = nup, 0
  for k = up_from, up_to, 2 do b = b + #ARGV[k] + #ARGV[k + 1] end
  local kept = {}
  for k = up_from, up_to, 2 do kept[ARGV[k]] = true end
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if string.byte(field, 1) ~= 0 and not kept[field] then removed[#removed + 1] = field end
  end
  changed = nup > 0 or s.n > 0
else
  n, b, removed = account(key, s, up_from, up_to)
  changed = nup > 0 or #removed > 0
end
if n > max_keys then return { 3, n } end
if b > max_bytes then return { 4, b } end
if #removed > 0 then
  for k = 1, #removed, 512 do
    redis.call('HDEL', key, unpack(removed, k, math.min(k + 511, #removed)))
  end
end
if nup > 0 then hset_pairs(key, ARGV, up_from, up_to) end
if changed then s.v = s.v + 1 end
redis.call('HSET', key, VERSION, num(s.v), BYTES, num(b), KEYS_N, num(n))
if idle ~= '' then
  s.i = tonumber(idle)
  s.d = now + s.i
  redis.call('HSET', key, IDLE, num(s.i), IDLE_AT, num(s.d))
  arm(key, s, now)
else
  slide(key, s, now)
end
return info(s)
