-- wrk script for the "direct" rows of bench/batch/run.sh: POSTs the body of a batch line (BENCH_BODY_FILE, written by
-- gen.py --body-out) to the URL given to wrk (a sim's /v1/chat/completions); prints one `BENCH k=v ...` line at the end.
local f = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
local body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = body

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f connect=%d read=%d write=%d timeout=%d status=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect, e.read, e.write, e.timeout, e.status))
end
