-- Shared by the wrk scripts: done() prints one line, "WRK_JSON {...}", that benchmarks.http.wrk
-- parses (latencies in microseconds, as wrk measures them).
threads = {}

function setup(thread)
  table.insert(threads, thread)
  if setup_thread then setup_thread(thread, #threads) end
end

local function sum_thread_counter(name)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get(name) or 0)
  end
  return total
end

function done(summary, latency, requests)
  local e = summary.errors
  local parts = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"bytes":%d', summary.bytes),
    string.format('"errors_connect":%d', e.connect),
    string.format('"errors_read":%d', e.read),
    string.format('"errors_write":%d', e.write),
    string.format('"errors_status":%d', e.status),
    string.format('"errors_timeout":%d', e.timeout),
    string.format('"bad_answers":%d', sum_thread_counter("bad_answers")),
    string.format('"latency_min_us":%d', latency.min),
    string.format('"latency_mean_us":%.1f', latency.mean),
    string.format('"latency_max_us":%d', latency.max),
  }
  for _, p in ipairs({50, 90, 99, 99.9}) do
    table.insert(parts, string.format('"p%s_us":%d', tostring(p), latency:percentile(p)))
  end
  io.write("WRK_JSON {" .. table.concat(parts, ",") .. "}\n")
end
