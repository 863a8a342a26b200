-- POST /api/v1/auth/refresh with rotation: every answer carries a new refresh token, which the
-- next request of the thread sends (a spent token is refused and ends its session). Each thread
-- starts with its share of BENCH_TOKENS_FILE (one token a line, at least one per connection):
-- a connection has one request in flight, so the thread's queue never runs dry while answers
-- are 200. A refused refresh loses its chain (counted in bad_answers); a thread whose queue is
-- empty stops.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

local all_tokens = {}
do
  local f = assert(io.open(os.getenv("BENCH_TOKENS_FILE"), "r"))
  for line in f:lines() do
    if line ~= "" then table.insert(all_tokens, line) end
  end
  f:close()
end
local thread_count = tonumber(os.getenv("BENCH_THREADS") or "1")

function setup_thread(thread, index)
  local mine = {}
  for i, token in ipairs(all_tokens) do
    if (i - 1) % thread_count == index - 1 then table.insert(mine, token) end
  end
  thread:set("tokens", mine)
  -- wrk calls request() once in the first thread before the run to check the request (for
  -- pipelining); that request is never sent, so it must not spend a token
  thread:set("verify_pending", index == 1)
end

-- in each thread
bad_answers = 0
local head, tail = 1, 0

function init(args)
  tail = #tokens
end

function request()
  local token = tokens[head]
  if verify_pending then
    verify_pending = false
    token = token or "none"
  elseif token == nil then
    wrk.thread:stop()
    token = "exhausted"
  else
    tokens[head] = nil
    head = head + 1
  end
  return wrk.format("POST", wrk.path, {["Content-Type"] = "application/json"},
                    '{"refresh_token":"' .. token .. '"}')
end

function response(status, headers, body)
  local token = status == 200 and body:match('"refresh_token"%s*:%s*"([^"]+)"')
  if token then
    tail = tail + 1
    tokens[tail] = token
  else
    bad_answers = bad_answers + 1
  end
end
