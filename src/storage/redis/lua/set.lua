-- Set: KEYS[1] the session's key.
-- ARGV: now, max keys, max session bytes, '1' to answer the data too,
-- the number of accepted versions (0: any), the versions, the number of
-- upserts, upsert key, value pairs, then the keys to remove.
-- Every change applies, or none does. Answers {0} not found, {2, version}
-- version mismatch, {3, keys} too many keys, {4, bytes} session too large,
-- else the info (and with '1', every field as HGETALL lists them).
local key, now = KEYS[1], tonumber(ARGV[1])
local s = live(key, now)
if not s then return { 0 } end
local max_keys, max_bytes = tonumber(ARGV[2]), tonumber(ARGV[3])
local nver = tonumber(ARGV[5])
local j = 6
if nver > 0 then
  local ok = false
  for k = j, j + nver - 1 do
    if tonumber(ARGV[k]) == s.v then ok = true end
  end
  if not ok then return { 2, s.v } end
end
j = j + nver
local nup = tonumber(ARGV[j])
local up_from, up_to = j + 1, j + 2 * nup
local n, b, removed = account(key, s, up_from, up_to)
if n > max_keys then return { 3, n } end
if b > max_bytes then return { 4, b } end
if nup > 0 then hset_pairs(key, ARGV, up_from, up_to) end
if #removed > 0 then
  for k = 1, #removed, 512 do
    redis.call('HDEL', key, unpack(removed, k, math.min(k + 511, #removed)))
  end
end
if nup > 0 or #removed > 0 then s.v = s.v + 1 end
redis.call('HSET', key, VERSION, num(s.v), BYTES, num(b), KEYS_N, num(n))
slide(key, s, now)
local out = info(s)
if ARGV[4] == '1' then out[6] = redis.call('HGETALL', key) end
return out
