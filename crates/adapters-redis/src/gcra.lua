-- GCRA (generic cell rate algorithm) in one atomic step, on the server's clock so every instance agrees.
-- KEYS[1]: the limiter key, holding the theoretical arrival time (TAT) in microseconds.
-- ARGV[1]: limit (burst size, >= 1); ARGV[2]: emission interval in microseconds (>= 1);
-- ARGV[3]: how many requests to admit at once (>= 1): fewer are granted when fewer are left, none when none is;
-- ARGV[4]: how many requests admitted earlier went unspent and are given back (>= 0).
-- Returns {granted, remaining after them, reset_after_us, retry_after_us}.
-- All values are integers below 2^53, so Lua's doubles hold them exactly.
local limit = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3] or 1)
local refund = tonumber(ARGV[4] or 0)
local tolerance = interval * limit
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
-- What was given back moves the TAT back, never before now (a limit restored holds no more than its burst).
local tat = tonumber(redis.call('GET', KEYS[1]) or now) - refund * interval
if tat < now then
  tat = now
end
-- Each admitted request moves the TAT one interval on; one is admitted while the TAT stays within the tolerance.
local available = math.floor((now + tolerance - tat) / interval)
if available < 1 then
  if refund > 0 then
    redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))
  end
  return {0, 0, tat - now, tat + interval - tolerance - now}
end
local granted = math.min(wanted, available)
local new_tat = tat + granted * interval
local ttl_ms = math.ceil((new_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl_ms)
return {granted, available - granted, new_tat - now, 0}
