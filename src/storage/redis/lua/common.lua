-- Prepended to every script: the layout of a session's hash and the rules
-- every operation shares. One hash per session; its key ends in the
-- session's digest inside a hash tag, so one session is one Cluster slot.
--
-- Metadata fields start with a NUL byte, which no data key can contain
-- (keys with control characters are refused before they get here), so a
-- user's key never collides with them.
local VERSION = '\0v'   -- grows with every change of data or id
local CREATED = '\0c'   -- ms since the epoch
local ABSOLUTE = '\0a'  -- absolute deadline, ms; absent for none
local IDLE = '\0i'      -- idle timeout, ms
local IDLE_AT = '\0d'   -- idle deadline, ms: slid forward by activity
local BYTES = '\0b'     -- bytes of the data keys and values
local KEYS_N = '\0n'    -- number of data keys
local ROTATED_TO = '\0r' -- a Rotate under way: the key the data moves to
local ROTATED_UNTIL = '\0t' -- until when that Rotate holds the session, ms
local NAMESPACE = '\0s' -- the namespace's name ('' the default), for
                          -- CountSessions / ClearSessions; absent in
                          -- sessions written before it existed
-- A session's binding to a user (absent when unbound). The user's index
-- (a sorted set under its own hash tag, so in another slot) names the
-- session by `<digest>:<epoch>`; a fresh epoch per binding lets a reader
-- of the index tell a member that is stale for good (the session is bound
-- with another epoch) from the live one, so removing it never races with
-- a re-binding.
local USER = '\0u'       -- the user id
local EPOCH = '\0e'      -- this binding's epoch: `<ms bound>.<random>`
local USER_AGENT = '\0g' -- for listings; '' when not given
local IP = '\0p'         -- likewise

-- Lua numbers are doubles: every figure here (ms timestamps, versions,
-- byte counts) stays far below 2^53. Written with '%.0f' so that Redis
-- never sees an exponent.
local function num(x) return string.format('%.0f', x) end

local function load(key)
  local m = redis.call('HMGET', key, VERSION, CREATED, ABSOLUTE, IDLE, IDLE_AT,
    BYTES, KEYS_N, ROTATED_TO, ROTATED_UNTIL)
  if not m[1] then return nil end
  return { v = tonumber(m[1]), c = tonumber(m[2]), a = tonumber(m[3]),
    i = tonumber(m[4]), d = tonumber(m[5]), b = tonumber(m[6]),
    n = tonumber(m[7]), r = m[8], t = tonumber(m[9]) }
end

-- The session in `all`, a whole hash as HGETALL lists it: what `load`
-- reads, without a second call for a Get that answers every field anyway.
local function from_fields(all)
  local m = {}
  for j = 1, #all, 2 do
    local f = all[j]
    if string.byte(f, 1) == 0 then m[f] = all[j + 1] end
  end
  if not m[VERSION] then return nil end
  return { v = tonumber(m[VERSION]), c = tonumber(m[CREATED]),
    a = tonumber(m[ABSOLUTE]), i = tonumber(m[IDLE]), d = tonumber(m[IDLE_AT]),
    b = tonumber(m[BYTES]), n = tonumber(m[KEYS_N]), r = m[ROTATED_TO],
    t = tonumber(m[ROTATED_UNTIL]) }
end

-- The earlier of the idle and absolute deadlines.
local function deadline(s)
  if s.a and s.a < s.d then return s.a end
  return s.d
end

-- The session at `key` unless its deadline has passed at `now` (it is
-- deleted then, whether or not Redis got to it), held by a Rotate or not.
local function unexpired(key, now)
  local s = load(key)
  if not s then return nil end
  if now >= deadline(s) then
    redis.call('DEL', key)
    return nil
  end
  return s
end

-- Whether a Rotate holds the session at `now`: it is gone for its callers
-- meanwhile. A Rotate whose hold ran out was abandoned (sessiond died
-- half-way): the session is usable again, its data untouched.
local function held(s, now)
  return s.r and s.t and now < s.t
end

-- The session at `key` if it exists at `now`: gone the instant its deadline
-- passes, and gone while a Rotate holds it.
local function live(key, now)
  local s = unexpired(key, now)
  if not s or held(s, now) then return nil end
  return s
end

-- Keeps Redis's own expiry at the session's deadline.
local function arm(key, s, now)
  redis.call('PEXPIRE', key, num(deadline(s) - now))
end

-- Activity: the idle deadline moves forward (never back), and the expiry
-- is re-armed.
local function slide(key, s, now)
  local d = now + s.i
  if d > s.d then
    s.d = d
    redis.call('HSET', key, IDLE_AT, num(d))
  end
  arm(key, s, now)
end

-- A read's slide, in steps: the idle deadline is written (and the expiry
-- re-armed) only once it would move by a granule, 1/64 of the idle
-- timeout between 1 s and 1 h, as the journal records slides. A session
-- read more often than that keeps a deadline up to one granule short of
-- an exact slide's: it may end that much sooner, never later, and every
-- answer states the deadline it really has. A read that does not move it
-- writes nothing.
local function slide_read(key, s, now)
  local d = now + s.i
  local granule = math.min(math.max(math.floor(s.i / 64), 1000), 3600000)
  if d >= s.d + granule then
    s.d = d
    redis.call('HSET', key, IDLE_AT, num(d))
    arm(key, s, now)
  end
end

-- What a caller learns besides the data: status 1, version, created,
-- deadline, idle timeout.
local function info(s)
  return { 1, s.v, s.c, deadline(s), s.i }
end

-- HSET of `list[from..]` (field, value, field, value...) in chunks, so that
-- no call unpacks more than Lua's stack allows.
local function hset_pairs(key, list, from, to)
  local chunk = {}
  for j = from, to, 2 do
    chunk[#chunk + 1] = list[j]
    chunk[#chunk + 1] = list[j + 1]
    if #chunk >= 512 then
      redis.call('HSET', key, unpack(chunk))
      chunk = {}
    end
  end
  if #chunk > 0 then redis.call('HSET', key, unpack(chunk)) end
end

-- A Set's keys and bytes after it: the upserts are ARGV[up_from..up_to]
-- (key, value pairs), the removals every ARGV after them. Answers the key
-- count, the byte count and the removals that name a present data key.
local function account(key, s, up_from, up_to)
  local n, b = s.n, s.b
  -- JSON values are never empty, so a length of 0 means the key is absent.
  for k = up_from, up_to, 2 do
    local old = redis.call('HSTRLEN', key, ARGV[k])
    if old == 0 then
      n = n + 1
      b = b + #ARGV[k] + #ARGV[k + 1]
    else
      b = b - old + #ARGV[k + 1]
    end
  end
  local removed = {}
  for k = up_to + 1, #ARGV do
    local old = redis.call('HSTRLEN', key, ARGV[k])
    if old > 0 and string.byte(ARGV[k], 1) ~= 0 then
      n = n - 1
      b = b - #ARGV[k] - old
      removed[#removed + 1] = ARGV[k]
    end
  end
  return n, b, removed
end
