-- Claims an idempotency key or reports what it holds, atomically.
-- KEYS[1]: the key (a hash: fp, state, status, headers, body). ARGV[1]: fingerprint; ARGV[2]: ttl in ms.
-- Returns {'started'} | {'mismatch'} | {'in_progress'} | {'completed', status, headers_json, body}.
if redis.call('HSETNX', KEYS[1], 'fp', ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], 'state', 'in_progress')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'started'}
end
local held = redis.call('HMGET', KEYS[1], 'fp', 'state', 'status', 'headers', 'body')
if held[1] ~= ARGV[1] then
  return {'mismatch'}
end
if held[2] == 'completed' then
  return {'completed', held[3], held[4], held[5]}
end
return {'in_progress'}
