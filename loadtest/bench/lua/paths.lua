-- wrk script: request the paths listed (one per line) in the file named by the
-- WRK_PATHS environment variable, in order, each thread starting at its own offset;
-- an optional tab-separated second column is the Accept header. At the end, print
-- one JSON line with the latency percentiles (microseconds) and counts. With WRK_SERVER_TIMING
-- set, every reply's Server-Timing header is read and a second line (WRK_TIMING) carries, per
-- metric name, the sum of its durations (ms) and how many replies had it.
local paths = {}
local accepts = {}
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file = os.getenv("WRK_PATHS")
  for line in io.lines(file) do
    local p, a = line:match("^([^\t]+)\t?(.*)$")
    if p then
      table.insert(paths, p)
      table.insert(accepts, a)
    end
  end
  -- Threads start far apart in the list so that they do not ask for the same key at once.
  counter = ((id or 0) * 7919) % #paths
end

function request()
  local i = (counter % #paths) + 1
  counter = counter + 1
  local headers = {}
  if accepts[i] ~= "" then headers["Accept"] = accepts[i] end
  return wrk.format("GET", paths[i], headers)
end

-- Globals, not locals: done() reads them from each thread's state with thread:get.
timing_sums = {}
timing_counts = {}

if os.getenv("WRK_SERVER_TIMING") then
  -- Defined only when asked for: with a response() wrk parses every reply's headers.
  function response(status, headers, body)
    for k, v in pairs(headers) do
      if string.lower(k) == "server-timing" then
        for entry in string.gmatch(v, "[^,]+") do
          local name = string.match(entry, "^%s*([%w_%-%.]+)")
          local dur = string.match(entry, ";%s*dur%s*=%s*\"?([%d%.eE+-]+)")
          if name and dur and tonumber(dur) then
            name = string.lower(name)
            timing_sums[name] = (timing_sums[name] or 0) + tonumber(dur)
            timing_counts[name] = (timing_counts[name] or 0) + 1
          end
        end
      end
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"bytes":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%f,"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.status, e.connect, e.read, e.write, e.timeout))
  if os.getenv("WRK_SERVER_TIMING") then
    -- Each thread has its own Lua state: gather their sums.
    local parts = {}
    local sums, counts = {}, {}
    for _, t in ipairs(threads) do
      local ts, tc = t:get("timing_sums"), t:get("timing_counts")
      if ts then
        for k, v in pairs(ts) do
          sums[k] = (sums[k] or 0) + v
          counts[k] = (counts[k] or 0) + (tc[k] or 0)
        end
      end
    end
    for k, v in pairs(sums) do
      table.insert(parts, string.format('"%s":{"sumMs":%f,"count":%d}', k, v, counts[k]))
    end
    io.write("WRK_TIMING {" .. table.concat(parts, ",") .. "}\n")
  end
end
