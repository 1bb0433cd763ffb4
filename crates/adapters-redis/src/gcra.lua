-- GCRA (generic cell rate algorithm) in one atomic step, on the server's clock so every instance agrees.
-- KEYS[1]: the limiter key, holding the theoretical arrival time (TAT) in microseconds.
-- ARGV[1]: limit (burst size, >= 1); ARGV[2]: emission interval in microseconds (>= 1).
-- Returns {allowed (0|1), remaining, reset_after_us, retry_after_us}.
-- All values are integers below 2^53, so Lua's doubles hold them exactly.
local limit = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = interval * limit
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then
  tat = now
end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if now < allow_at then
  return {0, 0, tat - now, allow_at - now}
end
local ttl_ms = math.ceil((new_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl_ms)
return {1, math.floor((now - allow_at) / interval), new_tat - now, 0}
