-- The waiting room's admitted pointer, computed from stored state at `now` (no timer: every
-- instance that asks gets the same answer). Uses KEYS[1] (wr:{E}) and KEYS[2] (wrpre:{E}).
-- Admissions are counted in units of 1/60000 (rate is per minute, time in ms), so
-- admitted = floor((base_units + (now - base_at) * rate) / 60000) while not paused.
local function queue_state(now)
  local s = redis.call('HMGET', KEYS[1], 'opens_at', 'rate', 'base_at', 'base_units',
                       'paused', 'opened', 'pre', 'arrivals')
  if not s[1] then return nil end
  local st = {opens_at = tonumber(s[1]), rate = tonumber(s[2]), base_at = tonumber(s[3]),
              units = tonumber(s[4]), paused = s[5] == '1', opened = s[6] == '1',
              pre = tonumber(s[7] or '0'), arrivals = tonumber(s[8] or '0'), admitted = 0}
  if not st.opened then
    st.pre = redis.call('ZCARD', KEYS[2])
    st.total = st.pre
    if now < st.opens_at then return st end
    -- The first call at or after opening freezes the pre-queue: its random order becomes
    -- places 1..pre, and later joins (even from an instance whose clock lags) queue behind.
    st.opened = true
    redis.call('HSET', KEYS[1], 'opened', '1', 'pre', st.pre)
  end
  local units = st.units
  if not st.paused and now > st.base_at then
    units = units + (now - st.base_at) * st.rate
  end
  st.total = st.pre + st.arrivals
  local admitted = math.floor(units / 60000)
  if admitted > st.total then
    -- Unused admissions are not banked: after a quiet spell the next burst still enters at
    -- the configured rate.
    admitted = st.total
    st.units = st.total * 60000
    st.base_at = math.max(now, st.base_at)
    redis.call('HSET', KEYS[1], 'base_units', st.units, 'base_at', st.base_at)
  end
  st.admitted = admitted
  return st
end

-- Moves the base to `now` (keeping the pointer where it is), so that a change of rate or a
-- pause applies from now on only; time spent paused never counts.
local function queue_rebase(st, now)
  if now > st.base_at then
    if not st.paused then st.units = st.units + (now - st.base_at) * st.rate end
    st.base_at = now
  end
  redis.call('HSET', KEYS[1], 'base_units', st.units, 'base_at', st.base_at)
end

-- The visitor's place: from wrpos:{E} (KEYS[3]), or, once opened, the rank in the frozen
-- pre-queue (recorded in wrpos on first look so later reads are one HGET).
local function queue_place(st, user)
  local place = redis.call('HGET', KEYS[3], user)
  if place then return tonumber(place) end
  if st.opened and redis.call('ZSCORE', KEYS[2], user) then
    place = redis.call('ZRANK', KEYS[2], user) + 1
    redis.call('HSET', KEYS[3], user, place)
    return place
  end
  return nil
end

-- What a visitor with `place` sees now. The first look after the pointer passed the place
-- starts the admission window (wradm:{E}, KEYS[4]: user -> admitted_at).
local function queue_describe(st, user, place, now, window)
  local out = {ok = true, place = place, admitted = st.admitted, total = st.total,
               rate = st.rate, paused = st.paused, opens_at = st.opens_at}
  if place <= st.admitted then
    local at = tonumber(redis.call('HGET', KEYS[4], user))
    if not at then
      at = now
      redis.call('HSET', KEYS[4], user, at)
    end
    out.admitted_at = at
    out.expires_at = at + window
    out.state = (now < at + window) and 'admitted' or 'expired'
  else
    out.state = 'queued'
  end
  return out
end
