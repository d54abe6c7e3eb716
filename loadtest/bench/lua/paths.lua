-- wrk script: request the paths listed (one per line) in the file named by the
-- WRK_PATHS environment variable, in order, each thread starting at its own offset;
-- an optional tab-separated second column is the Accept header. At the end, print
-- one JSON line with the latency percentiles (microseconds) and counts.
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

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"bytes":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%f,"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.status, e.connect, e.read, e.write, e.timeout))
end
