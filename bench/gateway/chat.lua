-- wrk script: POST a small non-streaming chat completion; print a machine-readable summary at the end.
-- Env: BENCH_AUTH (bearer token, sent to every target so all see the same bytes), BENCH_MODEL, BENCH_PROMPT_BYTES
-- (0: a one-line user message; N: a system prompt of about N bytes before it, as real chat requests carry).
local token = os.getenv("BENCH_AUTH") or "none"
local model = os.getenv("BENCH_MODEL") or "bench-model"
local prompt_bytes = tonumber(os.getenv("BENCH_PROMPT_BYTES") or "0")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
local system = ""
if prompt_bytes > 0 then
  local sentence = "You are a careful assistant for the harbour office; answer tide and berth questions briefly. "
  local text = string.rep(sentence, math.ceil(prompt_bytes / #sentence)):sub(1, prompt_bytes)
  system = '{"role":"system","content":"' .. text .. '"},'
end
wrk.body = '{"model":"' .. model .. '","messages":[' .. system .. '{"role":"user","content":"Say hello in a few words."}],"max_tokens":16}'

function done(summary, latency, requests)
  local e = summary.errors
  -- One line the runner greps: requests, seconds, rps, p50/p99/max in ms, error counts.
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f connect=%d read=%d write=%d timeout=%d status=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.timeout, e.status))
end
