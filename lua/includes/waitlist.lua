--[[
  Waiting-list helpers (KEYS[3] holds:{E}, KEYS[8] wl:{E}, KEYS[9] wlq:{E}).

  wlq scores are slot * 2^32 + seq: the ticket type's slot (wl field t:<type>, from 1)
  keeps each type's entries in one score range, in joining order (seq), so a type's head is
  one ZRANGEBYSCORE and a place one ZCOUNT, both O(log N), whatever other types wait.
]]
local WL_SPAN = 4294967296

local function wl_score(slot, seq)
  return string.format('%.0f', slot * WL_SPAN + seq)
end

local function wl_range(slot)
  return string.format('%.0f', slot * WL_SPAN), '(' .. string.format('%.0f', (slot + 1) * WL_SPAN)
end

-- the entry as a buyer sees it: its state beyond 'offered' derived from the offer's hold
local function wl_view(entry)
  local out = {id = entry.id, user_id = entry.user_id, ticket_type_id = entry.ticket_type_id,
               quantity = entry.quantity, joined_at = entry.joined_at, status = entry.status,
               order_id = entry.order_id}  -- order_id: kept by expire.lua when purged
  if entry.status == 'waiting' then
    local slot = tonumber(redis.call('HGET', KEYS[8], 't:' .. entry.ticket_type_id))
    local lo = wl_range(slot)
    out.place = redis.call('ZCOUNT', KEYS[9], lo, wl_score(slot, entry.seq))
  elseif entry.status == 'offered' then
    out.hold_id = entry.hold_id
    out.offered_at = entry.offered_at
    out.offer_expires_at = entry.offer_expires_at
    local raw = redis.call('HGET', KEYS[3], entry.hold_id)
    local rec = raw and cjson.decode(raw)
    if not rec then
      out.status = 'expired'  -- the ended hold's record was purged after its retention
    elseif rec.status == 'committed' then
      out.status = 'purchased'
      out.order_id = rec.order_id
    elseif rec.status == 'released' then
      if rec.end_reason == 'cancelled' or rec.end_reason == 'declined' then
        out.status = 'declined'
      else
        out.status = 'expired'
      end
    else
      out.hold_status = rec.status  -- held, or checkout (paying)
    end
  end
  return out
end

-- an entry still taking part: waiting, or offered with its hold not yet ended
local function wl_active(entry)
  local v = wl_view(entry)
  return v.status == 'waiting' or v.status == 'offered', v
end
