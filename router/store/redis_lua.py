"""The Lua scripts that make each RedisStore change atomic (keys under `router:`)."""

ACCEPT = """
if not redis.call('SET', ARGV[1], ARGV[3], 'NX', 'PX', ARGV[2]) then return 0 end
if #ARGV > 3 then
  redis.call('HSET', 'router:in:' .. ARGV[3], 'created_at', ARGV[4], 'resource', ARGV[5], 'request_id', ARGV[6],
             'received_at', ARGV[7], 'body_sha256', ARGV[8], 'body', ARGV[9], 'notes', ARGV[10],
             'matched', ARGV[11])
  redis.call('ZADD', 'router:inbound', ARGV[4], ARGV[3])
end
return 1
"""

# wakes up to n idle senders (store_redis.wait_due BLPOPs the list); a stale token costs one empty claim
_WAKE = """
local function wake(n)
  for _ = 1, math.min(n, 16) do redis.call('RPUSH', 'router:wake', '1') end
  if n > 0 then redis.call('LTRIM', 'router:wake', 0, 63) end
end
"""

# one webhook into the history (history_redis.py): its hash, the lex-sorted id index and one per filter value,
# and the per-minute count the status page charts
_HISTORY = """
local function history(json, body)
  local w = cjson.decode(json)
  redis.call('HSET', 'router:wh:' .. w.id, 'created_at', w.created_at, 'resource', w.resource,
             'action', w.action, 'title', w.title, 'project', w.project, 'issue_id', w.issue_id,
             'matched', w.matched, 'duplicate_of', w.duplicate_of, 'request_id', w.request_id, 'body', body,
             'received_at', w.received_at or '0', 'body_sha256', w.body_sha256 or '')
  redis.call('ZADD', 'router:webhooks', 0, w.id)
  for _, key in ipairs(w.indexes) do
    redis.call('ZADD', key, 0, w.id)
    redis.call('SADD', 'router:whx', key)
  end
  local stat = 'router:stat:' .. math.floor(tonumber(w.created_at) / 60)
  redis.call('HINCRBY', stat, 'webhooks', 1)
  redis.call('EXPIRE', stat, 172800)
end
"""

FAN_OUT = _HISTORY + _WAKE + """
if redis.call('ZREM', 'router:inbound', ARGV[1]) == 0 then return 0 end
local body = redis.call('HGET', 'router:in:' .. ARGV[1], 'body') or ''
redis.call('DEL', 'router:in:' .. ARGV[1])
if ARGV[2] ~= '' then history(ARGV[2], body) end
for i = 3, #ARGV do
  local j = cjson.decode(ARGV[i])
  local flat = {}
  for f, v in pairs(j) do flat[#flat + 1] = f; flat[#flat + 1] = v end
  redis.call('HSET', 'router:job:' .. j.id, unpack(flat))
  redis.call('ZADD', 'router:jobs', j.created_at, j.id)
  redis.call('ZADD', 'router:due', j.next_at, j.id)
  redis.call('SADD', 'router:whjobs:' .. ARGV[1], j.id)
end
wake(#ARGV - 2)
return 1
"""

HISTORY = _HISTORY + """
history(ARGV[1], ARGV[2])
return 1
"""

DUE_INBOUND = """
local ids = redis.call('ZRANGEBYSCORE', 'router:inbound', '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local out = {}
for _, id in ipairs(ids) do
  if redis.call('EXISTS', 'router:in:' .. id) == 1 then
    local before = redis.call('HINCRBY', 'router:in:' .. id, 'leases', 1) - 1
    local due = tonumber(ARGV[1]) + tonumber(ARGV[2]) * 2 ^ math.min(before, tonumber(ARGV[4]))
    redis.call('ZADD', 'router:inbound', string.format('%.6f', due), id)
    out[#out + 1] = id
  else
    redis.call('ZREM', 'router:inbound', id)
  end
end
return out
"""

CLAIM = """
local k = 'router:job:' .. ARGV[1]
local st = redis.call('HGET', k, 'status')
if st ~= 'queued' and st ~= 'retrying' then return false end
if tonumber(redis.call('HGET', k, 'next_at')) > tonumber(ARGV[2]) + 0.5 then return false end
redis.call('HINCRBY', k, 'attempts', 1)
redis.call('HSET', k, 'status', 'sending', 'lease_until', ARGV[3], 'owner', ARGV[4], 'updated_at', ARGV[2])
redis.call('ZREM', 'router:due', ARGV[1])
redis.call('ZADD', 'router:sending', ARGV[3], ARGV[1])
return redis.call('HGETALL', k)
"""

RECORD = _WAKE + """
local k = 'router:job:' .. ARGV[1]
if redis.call('HGET', k, 'status') ~= 'sending' or redis.call('HGET', k, 'owner') ~= ARGV[2] then return 0 end
redis.call('HSET', k, 'status', ARGV[3], 'updated_at', ARGV[4], 'next_at', ARGV[5], 'last_error', ARGV[6],
           'lease_until', '0')
for i = 7, #ARGV, 2 do redis.call('HSET', k, ARGV[i], ARGV[i + 1]) end
local target = redis.call('HGET', k, 'target') or ''
redis.call('RPUSH', 'router:att:' .. ARGV[1], cjson.encode({at = tonumber(ARGV[4]), outcome = ARGV[3],
           error = ARGV[6], n = tonumber(redis.call('HGET', k, 'attempts'))}))
local stat = 'router:stat:' .. math.floor(tonumber(ARGV[4]) / 60)
redis.call('HINCRBY', stat, ARGV[3] .. '\t' .. target, 1)
redis.call('EXPIRE', stat, 172800)
redis.call('ZREM', 'router:sending', ARGV[1])
if ARGV[3] == 'retrying' or ARGV[3] == 'queued' then
  redis.call('ZADD', 'router:due', ARGV[5], ARGV[1])
  if tonumber(ARGV[5]) <= tonumber(ARGV[4]) then wake(1) end
end
if ARGV[3] == 'dead' then redis.call('ZADD', 'router:dead', ARGV[4], ARGV[1]) end
return 1
"""

ORPHANS = _WAKE + """
local now = tonumber(ARGV[1])
local out = {}
local items = redis.call('ZRANGE', 'router:sending', 0, -1, 'WITHSCORES')
for i = 1, #items, 2 do
  local id, lease = items[i], tonumber(items[i + 1])
  local k = 'router:job:' .. id
  local owner = redis.call('HGET', k, 'owner')
  if lease < now or not owner or redis.call('EXISTS', 'router:kv:hb:' .. owner) == 0 then
    redis.call('ZREM', 'router:sending', id)
    if redis.call('HGET', k, 'status') == 'sending' then
      redis.call('HSET', k, 'status', 'retrying', 'next_at', ARGV[1], 'updated_at', ARGV[1], 'lease_until', '0')
      redis.call('ZADD', 'router:due', ARGV[1], id)
      out[#out + 1] = id
    end
  end
end
wake(#out)
return out
"""

RELEASE = _WAKE + """
local keep = {}
for i = 3, #ARGV do keep[ARGV[i]] = true end
local out = {}
for _, id in ipairs(redis.call('ZRANGE', 'router:sending', 0, -1)) do
  local k = 'router:job:' .. id
  if not keep[id] and redis.call('HGET', k, 'status') == 'sending' and redis.call('HGET', k, 'owner') == ARGV[1] then
    redis.call('HSET', k, 'status', 'retrying', 'next_at', ARGV[2], 'updated_at', ARGV[2], 'lease_until', '0')
    redis.call('ZREM', 'router:sending', id)
    redis.call('ZADD', 'router:due', ARGV[2], id)
    out[#out + 1] = id
  end
end
wake(#out)
return out
"""

RENEW = """
local out = {}
for i = 3, #ARGV do
  local k = 'router:job:' .. ARGV[i]
  if redis.call('HGET', k, 'status') == 'sending' and redis.call('HGET', k, 'owner') == ARGV[1] then
    redis.call('HSET', k, 'lease_until', ARGV[2])
    redis.call('ZADD', 'router:sending', ARGV[2], ARGV[i])
    out[#out + 1] = ARGV[i]
  end
end
return out
"""

# the queue: up to ARGV[4] due jobs (score next_at <= ARGV[1]), soonest first, leased to ARGV[3] until ARGV[2]
CLAIM_NEXT = """
local out = {}
local ids = redis.call('ZRANGEBYSCORE', 'router:due', '-inf', ARGV[1], 'LIMIT', 0, ARGV[4])
for _, id in ipairs(ids) do
  local k = 'router:job:' .. id
  local st = redis.call('HGET', k, 'status')
  redis.call('ZREM', 'router:due', id)
  if st == 'queued' or st == 'retrying' then
    redis.call('HINCRBY', k, 'attempts', 1)
    redis.call('HSET', k, 'status', 'sending', 'lease_until', ARGV[2], 'owner', ARGV[3], 'updated_at', ARGV[1])
    redis.call('ZADD', 'router:sending', ARGV[2], id)
    out[#out + 1] = redis.call('HGETALL', k)
  end
end
return out
"""

REQUEUE = _WAKE + """
local k = 'router:job:' .. ARGV[1]
local st = redis.call('HGET', k, 'status')
local ok = false
for i = 4, #ARGV do if st == ARGV[i] then ok = true end end
if not ok then return 0 end
redis.call('HSET', k, 'status', 'queued', 'attempts', '0', 'next_at', ARGV[2], 'deadline_at', ARGV[3],
           'updated_at', ARGV[2])
-- a replay is sent, not throttled again
local sup = redis.call('HGET', k, 'suppressed')
if not sup or sup == '' or sup == 'None' then redis.call('HSET', k, 'suppressed', '0') end
redis.call('ZREM', 'router:dead', ARGV[1])
redis.call('ZADD', 'router:due', ARGV[2], ARGV[1])
wake(1)
return 1
"""

THROTTLE = """
local t = redis.call('HMGET', ARGV[1], 'until', 'suppressed', 'holder', 'carried')
if t[3] == ARGV[4] then return {1, tonumber(t[4])} end
if t[1] and tonumber(t[1]) > tonumber(ARGV[2]) then
  return {0, redis.call('HINCRBY', ARGV[1], 'suppressed', 1)}
end
local carried = tonumber(t[2] or '0')
redis.call('HSET', ARGV[1], 'until', ARGV[3], 'suppressed', '0', 'holder', ARGV[4], 'carried', tostring(carried))
redis.call('PEXPIRE', ARGV[1], ARGV[5])
return {1, carried}
"""

EXPIRE = """
local ids = redis.call('ZRANGEBYSCORE', 'router:jobs', '-inf', '(' .. ARGV[1], 'LIMIT', 0, 5000)
local n = 0
for _, id in ipairs(ids) do
  local k = 'router:job:' .. id
  local st = redis.call('HGET', k, 'status')
  local done = not st
  for i = 2, #ARGV do if st == ARGV[i] then done = true end end
  if done then
    redis.call('DEL', k, 'router:att:' .. id)
    redis.call('ZREM', 'router:jobs', id)
    redis.call('ZREM', 'router:dead', id)
    n = n + 1
  end
end
return n
"""

EXPIRE_HISTORY = """
local ids = redis.call('ZRANGEBYLEX', 'router:webhooks', '-', '(' .. ARGV[1], 'LIMIT', 0, 5000)
local keys = redis.call('SMEMBERS', 'router:whx')
local kept = {}
for _, id in ipairs(ids) do
  -- a webhook whose notifications are still to be sent (a dead letter replayed late) stays: they read it
  local live = false
  for _, j in ipairs(redis.call('SMEMBERS', 'router:whjobs:' .. id)) do
    local st = redis.call('HGET', 'router:job:' .. j, 'status')
    if st == 'queued' or st == 'sending' or st == 'retrying' then live = true; break end
  end
  if live then kept[#kept + 1] = id else redis.call('DEL', 'router:wh:' .. id, 'router:whjobs:' .. id) end
end
local upto = '(' .. ARGV[1]
if #ids == 5000 then upto = '[' .. ids[#ids] end  -- the rest next time
for _, key in ipairs(keys) do
  redis.call('ZREMRANGEBYLEX', key, '-', upto)
  if redis.call('ZCARD', key) == 0 then redis.call('SREM', 'router:whx', key) end
end
redis.call('ZREMRANGEBYLEX', 'router:webhooks', '-', upto)
for _, id in ipairs(kept) do redis.call('ZADD', 'router:webhooks', 0, id) end  -- looked at again next time
return #ids - #kept
"""

PACE = """
local tat = tonumber(redis.call('GET', ARGV[1]) or '0')
local now, interval, hold = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[5])
local tolerance = math.max(0, tonumber(ARGV[4]) - 1) * interval
local slot
if hold > 0 then
  slot, tat = now + hold, math.max(tat, now + hold + tolerance)
else
  tat = math.max(tat, now)
  slot, tat = math.max(now, tat - tolerance), tat + interval
end
redis.call('SET', ARGV[1], string.format('%.6f', tat), 'PX', math.floor((tat - now + 60) * 1000))
return string.format('%.6f', slot)
"""

DEFER = """
local k = 'router:job:' .. ARGV[1]
if redis.call('HGET', k, 'status') ~= 'sending' or redis.call('HGET', k, 'owner') ~= ARGV[2] then return 0 end
local attempts = math.max(tonumber(redis.call('HGET', k, 'attempts') or '1') - 1, 0)
redis.call('HSET', k, 'status', 'queued', 'attempts', attempts, 'next_at', ARGV[4], 'batch', ARGV[5],
           'updated_at', ARGV[3], 'lease_until', '0')
redis.call('ZREM', 'router:sending', ARGV[1])
redis.call('ZADD', 'router:due', ARGV[4], ARGV[1])
redis.call('SADD', 'router:batch:' .. ARGV[5], ARGV[1])
redis.call('PEXPIRE', 'router:batch:' .. ARGV[5], 86400000)
return 1
"""

CLAIM_BATCH = """
local b = 'router:batch:' .. ARGV[1]
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', b)) do
  local k = 'router:job:' .. id
  local st = redis.call('HGET', k, 'status')
  if (st == 'queued' or st == 'retrying') and redis.call('HGET', k, 'batch') == ARGV[1] then
    if #out < tonumber(ARGV[5]) then
      redis.call('HINCRBY', k, 'attempts', 1)
      redis.call('HSET', k, 'status', 'sending', 'lease_until', ARGV[3], 'owner', ARGV[4], 'updated_at', ARGV[2])
      redis.call('ZREM', 'router:due', id)
      redis.call('ZADD', 'router:sending', ARGV[3], id)
      redis.call('SREM', b, id)
      out[#out + 1] = redis.call('HGETALL', k)
    end
  else
    redis.call('SREM', b, id)
  end
end
return out
"""

SCRIPTS = {"accept": ACCEPT, "history": HISTORY, "expire_history": EXPIRE_HISTORY, "fan_out": FAN_OUT,
           "due_inbound": DUE_INBOUND, "claim": CLAIM, "record": RECORD, "orphans": ORPHANS, "renew": RENEW,
           "release": RELEASE, "claim_next": CLAIM_NEXT,
           "requeue": REQUEUE, "throttle": THROTTLE, "expire": EXPIRE,
           "pace": PACE, "defer": DEFER, "claim_batch": CLAIM_BATCH}
