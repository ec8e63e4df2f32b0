-- wrk reporter: counts responses other than 200 (wrk counts redirects as successes) and prints
-- the summary with p50/p90/p95/p99 latency as one JSON line for benchmarks/serving.py to read.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_ok = 0
  last_status = 0
end

function response(status, headers, body)
  if status ~= 200 then
    not_ok = not_ok + 1
    last_status = status
  end
end

function done(summary, latency, requests)
  local bad, status = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("not_ok")
    if thread:get("last_status") ~= 0 then
      status = thread:get("last_status")
    end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "not_ok": %d, "last_bad_status": %d, '
    .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, '
    .. '"mean_us": %.1f, "max_us": %.1f, "p50_us": %.1f, "p90_us": %.1f, "p95_us": %.1f, "p99_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, bad, status,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99)))
end
