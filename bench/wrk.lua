-- wrk script for bench/: wrk -s bench/wrk.lua <url> -- <requests file>
--
-- Each line of the requests file is METHOD<TAB>PATH<TAB>TOKEN<TAB>BODY (TOKEN and BODY may be
-- empty). Threads cycle through the lines from different starting points. In a BODY, "{n}" is
-- replaced per request by a unique "<thread>-<counter>", so that creates do not collide.
-- done() prints one line, "BENCH_RESULT <json>", which bench/wrk.py parses.

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("id", thread_count)
  table.insert(threads, thread)
end

local entries = {}
local counter = 0
non2xx = 0

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    if method then
      local headers = {}
      if token ~= "" then headers["Authorization"] = "Token " .. token end
      if body ~= "" then headers["Content-Type"] = "application/json" end
      if body:find("{n}", 1, true) then
        table.insert(entries, {method = method, path = path, headers = headers, body = body})
      else
        table.insert(entries, wrk.format(method, path, headers, body ~= "" and body or nil))
      end
    end
  end
  file:close()
  assert(#entries > 0, "no requests in " .. args[1])
  counter = ((id or 1) - 1) * math.floor(#entries / 2)
end

function request()
  counter = counter + 1
  local entry = entries[(counter % #entries) + 1]
  if type(entry) == "string" then return entry end
  local body = entry.body:gsub("{n}", id .. "-" .. counter)
  return wrk.format(entry.method, entry.path, entry.headers, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + (thread:get("non2xx") or 0) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes, bad,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
