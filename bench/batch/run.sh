#!/usr/bin/env bash
# Batch benchmark (issue 4): how fast a batch runs through Atoll's chunk queue compared with what the same sims can do
# when driven directly, and how much memory the server needs for a 200 MB input.
#   1. throughput: a 50,000-line chat batch through `atoll server` + N agents, each with its own `atoll sim`; the limit is
#      the same N sims driven straight by wrk at the same concurrency, measured before and after the batch in the same run
#   2. memory: a ~200 MiB input (48,000 lines of ~4.3 KB) uploaded to a fresh server and run to the end; the server's
#      VmHWM (reset at every phase) and sampled VmRSS per phase: upload, validating, in_progress, finalizing
# Prints the tables and writes them to bench/results/batch-<UTC date>.md (BENCH_OUT overrides). Method: bench/batch/README.md.
# Uses only 127.0.0.1 and free ports, stops everything it started, and kills itself after BENCH_MAX_SECONDS.
# Settings (env): BENCH_LINES (50000), BENCH_AGENTS (4), BENCH_CONCURRENCY (16: each sim's --max-num-seqs, each agent's
#   --batch-concurrency and wrk's connections per sim), BENCH_DIRECT_DURATION (10 s per direct row), BENCH_BIG_LINES
#   (48000), BENCH_BIG_LINE_BYTES (4360), BENCH_BIG_MAX_TOKENS (512), BENCH_BIG_LIMIT (240: cancel the big batch if it
#   has not reached finalizing by then; the finalizer still runs), BENCH_SKIP_BIG=1, BENCH_YIELD_ABOVE (agent default),
#   BENCH_MAX_SECONDS (600, after the build), BENCH_KEEP=1 keeps logs and inputs, BENCH_REV=<commit> benchmarks a clean
#   build of that commit instead of the working tree.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
LINES=${BENCH_LINES:-50000}
AGENTS=${BENCH_AGENTS:-4}
CONC=${BENCH_CONCURRENCY:-16}
DIRECT_DURATION=${BENCH_DIRECT_DURATION:-10}
BIG_LINES=${BENCH_BIG_LINES:-48000}
BIG_LINE_BYTES=${BENCH_BIG_LINE_BYTES:-4360}
BIG_MAX_TOKENS=${BENCH_BIG_MAX_TOKENS:-512}
BIG_LIMIT=${BENCH_BIG_LIMIT:-240}
MAX_SECONDS=${BENCH_MAX_SECONDS:-600}
MAX_TOKENS=4
CHUNK_LINES=128 # the server's default (BatchLimits.DefaultChunkLines); not a flag
LEASE=10s
MODEL=bench-model
SIM_ARGS=(--ttft 2 --itl 0 --jitter 0 --prefill-per-token 0 --max-num-seqs "$CONC" --max-waiting 256 --default-max-tokens "$MAX_TOKENS")
DATE=$(date -u +%Y-%m-%d)
OUT=${BENCH_OUT:-$root/bench/results/batch-$DATE.md}
COMMAND="$0${*:+ $*}"
for v in BENCH_REV BENCH_LINES BENCH_AGENTS BENCH_CONCURRENCY BENCH_DIRECT_DURATION BENCH_BIG_LINES BENCH_BIG_LINE_BYTES \
  BENCH_BIG_MAX_TOKENS BENCH_BIG_LIMIT BENCH_SKIP_BIG BENCH_YIELD_ABOVE; do
  if [ -n "${!v:-}" ]; then COMMAND="$v=${!v} $COMMAND"; fi
done

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# ---------- tools ----------
if ! dpkg -s wrk >/dev/null 2>&1; then
  log "installing wrk"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }
fi
command -v python3 >/dev/null || die "python3 is needed (gen.py, watch.py, report.py)"
command -v curl >/dev/null || die "curl is needed"

# ---------- process bookkeeping ----------
tmp=$(mktemp -d /tmp/atoll-bench-batch.XXXXXX)
pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "${watchdog:-}" ]; then kill -TERM "$watchdog" 2>/dev/null || true; fi
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ "${BENCH_KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then log "logs kept in $tmp"; else rm -rf "$tmp"; fi
  exit $rc
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# Binary under test: the working tree through ./atoll (default), or a clean snapshot of BENCH_REV built in a temp dir.
# Either way a private copy is run: a rebuild of src/ during the run must not swap the binary under running processes.
if [ -n "${BENCH_REV:-}" ]; then
  rev=$(git -C "$root" rev-parse --verify "${BENCH_REV}^{commit}") || die "BENCH_REV=$BENCH_REV is not a commit"
  log "building atoll at ${rev:0:9} (Release, clean snapshot)"
  mkdir -p "$tmp/src"
  git -C "$root" archive "$rev" | tar -x -C "$tmp/src"
  DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet build "$tmp/src/src/Atoll.Cli/Atoll.Cli.csproj" -c Release -nologo -v quiet \
    >"$tmp/build.log" 2>&1 || die "build failed: $(tail -5 "$tmp/build.log")"
  cp -a "$tmp/src/src/Atoll.Cli/bin/Release/net10.0" "$tmp/atoll-bin"
  rm -rf "$tmp/src"
  BUILT="${rev:0:9} (clean snapshot of BENCH_REV=$BENCH_REV)"
else
  log "building atoll (Release, working tree)"
  "$root/atoll" --help >/dev/null
  cp -a "$root/src/Atoll.Cli/bin/Release/net10.0" "$tmp/atoll-bin"
  BUILT="working tree at $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- src 2>/dev/null && [ -z "$(git -C "$root" status --porcelain -- src)" ] || echo ' + uncommitted changes under src/')"
fi
ATOLL="$tmp/atoll-bin/atoll"
[ -x "$ATOLL" ] || die "no atoll binary at $ATOLL"
( trap 'kill "$sp" 2>/dev/null; exit 0' TERM; sleep "$MAX_SECONDS" & sp=$!; wait "$sp"
  echo "[bench] over ${MAX_SECONDS}s: stopping" >&2; kill -TERM $$ ) &
watchdog=$!
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$SECONDS

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# stop PID...: ends processes this script started (by id) and drops them from the list.
stop() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  local keep=() p
  for p in "${pids[@]}"; do [[ " $* " == *" $p "* ]] || keep+=("$p"); done
  pids=("${keep[@]}")
}

# run_bg COMMAND...: runs a bounded helper in the background and waits for it, so that the watchdog's TERM (a trap)
# is handled at once rather than after the helper ends; returns its exit code.
run_bg() {
  "$@" &
  local pid=$!
  pids+=("$pid")
  local rc=0
  wait "$pid" || rc=$?
  stop "$pid"
  return $rc
}

wait_until() { # wait_until SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  local until=$((SECONDS + limit))
  while [ $SECONDS -lt $until ]; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "$what not ready after ${limit}s"
}

# ---------- inputs ----------
log "generating inputs: $LINES small lines; $BIG_LINES lines of $BIG_LINE_BYTES bytes"
python3 "$here/gen.py" --lines "$LINES" --model "$MODEL" --max-tokens "$MAX_TOKENS" --out "$tmp/small.jsonl" --body-out "$tmp/body.json" >/dev/null
WARMUP_LINES=$((AGENTS * CHUNK_LINES * 2))
python3 "$here/gen.py" --lines "$WARMUP_LINES" --model "$MODEL" --max-tokens "$MAX_TOKENS" --out "$tmp/warmup.jsonl" >/dev/null
if [ "${BENCH_SKIP_BIG:-0}" != 1 ]; then
  python3 "$here/gen.py" --lines "$BIG_LINES" --model "$MODEL" --max-tokens "$BIG_MAX_TOKENS" --line-bytes "$BIG_LINE_BYTES" \
    --out "$tmp/big.jsonl" >/dev/null
  BIG_BYTES=$(stat -c %s "$tmp/big.jsonl")
fi

# ---------- sims ----------
SIM_PORTS=(); SIM_PIDS=()
for i in $(seq 1 "$AGENTS"); do
  port=$(freeport)
  "$ATOLL" sim --host 127.0.0.1 --port "$port" --model "$MODEL" --instance "sim-$i" --seed "$i" "${SIM_ARGS[@]}" >"$tmp/sim-$i.log" 2>&1 &
  pids+=($!); SIM_PIDS+=($!); SIM_PORTS+=("$port")
done
for port in "${SIM_PORTS[@]}"; do wait_until 30 "sim :$port" curl -fsS "http://127.0.0.1:$port/health"; done

# direct NAME SECONDS: one wrk per sim, all at once, CONC connections each -> $tmp/NAME/wrk-i.txt
direct() {
  local name=$1 secs=$2 i=0 port wpids=()
  mkdir -p "$tmp/$name"
  for port in "${SIM_PORTS[@]}"; do
    i=$((i + 1))
    BENCH_BODY_FILE="$tmp/body.json" wrk -t1 -c"$CONC" -d"${secs}s" --timeout 10s -s "$here/chat.lua" \
      "http://127.0.0.1:$port/v1/chat/completions" >"$tmp/$name/wrk-$i.txt" 2>&1 &
    wpids+=($!); pids+=($!)
  done
  local rc=0 pid
  for pid in "${wpids[@]}"; do wait "$pid" || rc=$?; done
  stop "${wpids[@]}"
  [ $rc -eq 0 ] || die "wrk ($name) failed: $(tail -3 "$tmp/$name/wrk-1.txt")"
}

# CPU time (clock ticks, user + system) of the given processes, and of the whole machine (busy and total, all cores).
cpu_ticks() {
  local t=0 p v
  for p in "$@"; do v=$(cut -d')' -f2 "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}'); t=$((t + ${v:-0})); done
  echo "$t"
}
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
CPU=()

direct_rps() { python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import report; print(round(report.wrk_dir(sys.argv[2])["rps"]))' "$here" "$tmp/$1"; }

log "1. limit: wrk straight at the $AGENTS sims, $CONC connections each (3 s warm-up, ${DIRECT_DURATION} s measured)"
direct direct-warmup 3
s0=$(cpu_ticks "${SIM_PIDS[@]}"); read -r m0 n0 < <(machine_ticks)
direct direct-before "$DIRECT_DURATION"
s1=$(cpu_ticks "${SIM_PIDS[@]}"); read -r m1 n1 < <(machine_ticks)
CPU+=("direct_sims=$((s1 - s0))" "direct_machine_busy=$((m1 - m0))" "direct_machine_total=$((n1 - n0))")
log "direct before: $(direct_rps direct-before) requests/s"

# ---------- server + agents ----------
# start_fleet NAME -> SERVER_URL, SERVER_PID, TOKEN, FLEET_PIDS (server and agents), AGENT_LOGS
start_fleet() {
  local name=$1 dir="$tmp/$1" port i
  port=$(freeport)
  SERVER_URL="http://127.0.0.1:$port"
  "$ATOLL" server --listen "$SERVER_URL" --data "$dir" --lease-duration "$LEASE" >"$dir.server.log" 2>&1 &
  SERVER_PID=$!; FLEET_PIDS=($!); pids+=($!)
  wait_until 60 "atoll server ($name) token" test -s "$dir/admin.token"
  TOKEN=$(cat "$dir/admin.token")
  wait_until 30 "atoll server ($name)" curl -fsS "$SERVER_URL/healthz"
  local join extra=()
  join=$(ATOLL_SERVER=$SERVER_URL ATOLL_TOKEN=$TOKEN "$ATOLL" tokens create --uses "$AGENTS" --ttl 1h -q)
  [ -n "${BENCH_YIELD_ABOVE:-}" ] && extra=(--batch-yield-above "$BENCH_YIELD_ABOVE")
  AGENT_LOGS=()
  for i in $(seq 1 "$AGENTS"); do
    "$ATOLL" agent --server "$SERVER_URL" --join-token "$join" --name "node$i" --gpus 0 \
      --model "$MODEL=http://127.0.0.1:${SIM_PORTS[$((i - 1))]}" --state "$dir-agent$i" --batch-concurrency "$CONC" "${extra[@]}" \
      >"$dir-agent$i.log" 2>&1 &
    FLEET_PIDS+=($!); pids+=($!); AGENT_LOGS+=("$dir-agent$i.log")
  done
  for i in $(seq 1 "$AGENTS"); do wait_until 60 "agent $i ($name)" grep -q "Batch worker for" "$dir-agent$i.log"; done
}

watch_batch() { # watch_batch OUT ARGS...: watch.py against the current fleet
  local out=$1; shift
  run_bg python3 "$here/watch.py" --server "$SERVER_URL" --token "$TOKEN" --out "$out" "$@" >/dev/null \
    || die "watch.py failed or timed out: $(tail -c 600 "$out" 2>/dev/null)"
}

log "starting atoll server (--lease-duration $LEASE) and $AGENTS agents (--batch-concurrency $CONC)"
start_fleet fleet1
THROUGHPUT_LOGS=("${AGENT_LOGS[@]}")

log "warm-up batch: $WARMUP_LINES lines (not measured)"
watch_batch "$tmp/watch-warmup.json" --create "$tmp/warmup.jsonl" --cli "$ATOLL" --timeout 120

log "1. throughput: $LINES-line batch"
s0=$(cpu_ticks "${SIM_PIDS[@]}"); v0=$(cpu_ticks "$SERVER_PID"); a0=$(cpu_ticks "${FLEET_PIDS[@]:1}"); read -r m0 n0 < <(machine_ticks)
watch_batch "$tmp/watch-small.json" --create "$tmp/small.jsonl" --cli "$ATOLL" --pid "$SERVER_PID" \
  --timeout $((MAX_SECONDS - (SECONDS - STARTED) - 30))
s1=$(cpu_ticks "${SIM_PIDS[@]}"); v1=$(cpu_ticks "$SERVER_PID"); a1=$(cpu_ticks "${FLEET_PIDS[@]:1}"); read -r m1 n1 < <(machine_ticks)
CPU+=("batch_sims=$((s1 - s0))" "batch_server=$((v1 - v0))" "batch_agents=$((a1 - a0))" "batch_machine_busy=$((m1 - m0))" "batch_machine_total=$((n1 - n0))")
log "batch: $(python3 -c 'import json,sys; w=json.loads(open(sys.argv[1]).read()[6:]); b=w["batch"]; print(b["status"], b["request_counts"], round(w["end"]-w["t0"], 1), "s end to end")' "$tmp/watch-small.json")"

direct direct-after "$DIRECT_DURATION"
log "direct after: $(direct_rps direct-after) requests/s"
stop "${FLEET_PIDS[@]}"

# ---------- 2. memory ----------
BIG_ARGS=()
if [ "${BENCH_SKIP_BIG:-0}" != 1 ]; then
  log "2. memory: fresh server and $AGENTS agents; $BIG_BYTES-byte input, cancelled if not finalizing after ${BIG_LIMIT}s"
  start_fleet fleet2
  sleep 2 # let the fresh server settle before the idle reading
  remaining=$((MAX_SECONDS - (SECONDS - STARTED) - 20))
  watch_batch "$tmp/watch-big.json" --upload "$tmp/big.jsonl" --pid "$SERVER_PID" --cancel-after "$BIG_LIMIT" --timeout "$remaining"
  stop "${FLEET_PIDS[@]}"
  BIG_ARGS=(--big "$tmp/watch-big.json" --big-lines "$BIG_LINES" --big-bytes "$BIG_BYTES" --big-max-tokens "$BIG_MAX_TOKENS")
fi
stop "${SIM_PIDS[@]}"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------- report ----------
table=$(python3 "$here/report.py" --direct-before "$tmp/direct-before" --direct-after "$tmp/direct-after" \
  --throughput "$tmp/watch-small.json" --agent-logs "${THROUGHPUT_LOGS[@]}" --lines "$LINES" --agents "$AGENTS" \
  --concurrency "$CONC" --chunk-lines "$CHUNK_LINES" --clk-tck "$(getconf CLK_TCK)" --cpu "${CPU[@]}" \
  --describe "$AGENTS sims (\`${SIM_ARGS[*]}\`), max_tokens $MAX_TOKENS, lease $LEASE" "${BIG_ARGS[@]}")

echo
echo "$table"

mkdir -p "$(dirname "$OUT")"
{
  echo "# Batch benchmark — $DATE"
  echo
  echo "Command (from the repository root):"
  echo
  echo '```'
  echo "$COMMAND"
  echo '```'
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))," \
    "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); run at $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Versions: atoll $BUILT, $(wrk -v 2>&1 | head -1 | awk '{print "wrk " $2}'), $(python3 --version), .NET $(dotnet --version 2>/dev/null || echo '?')."
  echo "Load average (1/5/15 min) before the run: $LOAD_BEFORE; after: $LOAD_AFTER (other work on the machine counts here)."
  echo "Server, agents, sims and wrk all share this machine; compare rows within one run, not across runs."
  echo "Method (what the limit is, how overhead and memory are computed): bench/batch/README.md."
  echo
  echo "$table"
  echo
  echo "<details><summary>Raw summaries</summary>"
  echo
  echo '```'
  for d in direct-before direct-after; do
    for f in "$tmp/$d"/wrk-*.txt; do echo "$d/$(basename "$f" .txt): $(grep '^BENCH ' "$f")"; done
  done
  for w in watch-small watch-big; do
    if [ -f "$tmp/$w.json" ]; then echo "$w: $(cat "$tmp/$w.json")"; fi
  done
  echo '```'
  echo
  echo "</details>"
} >"$OUT"
log "wrote $OUT"
