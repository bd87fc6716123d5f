-- tenure's Redis script, layout 1 (docs/stores.md, "Redis"). KEYS[1] is one session's hash;
-- ARGV[1] the mode. Every write checks before it writes, atomically: nothing is lost, and a
-- session that is gone is never written back half-empty.
local key, mode = KEYS[1], ARGV[1]

-- HSET field/value pairs from ARGV[from] on, 100 pairs per call (Lua's unpack has a limit).
local function set(from)
  for i = from, #ARGV, 200 do
    redis.call('HSET', key, unpack(ARGV, i, math.min(i + 199, #ARGV)))
  end
end

-- ttl: ms to live, '' for never, '-' to leave as is.
local function expire(ttl)
  if ttl == '' then redis.call('PERSIST', key) elseif ttl ~= '-' then redis.call('PEXPIRE', key, ttl) end
end

local function take()
  local all = redis.call('HGETALL', key)
  redis.call('DEL', key)
  return {1, all}
end

if mode == 'insert' then
  -- ARGV: 'insert', ttl, field, value, ...
  if redis.call('EXISTS', key) == 1 then return {0} end
  set(3)
  expire(ARGV[2])
  return {1}
end

if mode == 'reap' then
  -- ARGV: 'reap', now. {2}: gone already; {1, hash}: was due, removed; {0, deadline}: alive.
  local d = redis.call('HMGET', key, 'version', 'deadline')
  if not d[1] then return {2} end
  if d[2] and tonumber(d[2]) <= tonumber(ARGV[2]) then return take() end
  return {0, d[2] or ''}
end

local version = redis.call('HGET', key, 'version')

if mode == 'remove' then
  -- ARGV: 'remove', expected version ('' for any).
  if not version or (ARGV[2] ~= '' and version ~= ARGV[2]) then return {0} end
  return take()
end

-- 'replace' and 'touch' write only the version they expect (a missing session has none).
if version ~= ARGV[2] then return {0, redis.call('HGETALL', key)} end

if mode == 'touch' then
  -- ARGV: 'touch', expected, ttl, accessed, deadline. Raises the access time only.
  if tonumber(redis.call('HGET', key, 'accessed')) < tonumber(ARGV[4]) then
    redis.call('HSET', key, 'accessed', ARGV[4])
    if ARGV[5] ~= '' then redis.call('HSET', key, 'deadline', ARGV[5]) end
    expire(ARGV[3])
  end
  return {1, redis.call('HGETALL', key)}
end

if mode == 'replace' then
  -- ARGV: 'replace', expected, new version, ttl, n (prefixed 'c': drop every data field
  -- first), then n fields to delete, then field/value pairs to set.
  local n = ARGV[5]
  if string.sub(n, 1, 1) == 'c' then
    n = string.sub(n, 2)
    local gone = {}
    for _, f in ipairs(redis.call('HKEYS', key)) do
      if string.sub(f, 1, 2) == 'd:' then gone[#gone + 1] = f end
    end
    for i = 1, #gone, 200 do
      redis.call('HDEL', key, unpack(gone, i, math.min(i + 199, #gone)))
    end
  end
  n = tonumber(n)
  for i = 6, 5 + n, 200 do
    redis.call('HDEL', key, unpack(ARGV, i, math.min(i + 199, 5 + n)))
  end
  redis.call('HSET', key, 'version', ARGV[3])
  set(6 + n)
  expire(ARGV[4])
  return {1}
end

return redis.error_reply('tenure: unknown script mode ' .. tostring(mode))
