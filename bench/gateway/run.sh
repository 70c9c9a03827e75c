#!/usr/bin/env bash
# Gateway benchmark: direct vs Atoll vs nginx vs HAProxy, same `atoll sim` backends, same load generator, one run.
#   1. overhead and throughput (wrk, non-streaming, 64 connections; 1d: 256, where the CPU limits requests/s)
#   2. failover (one of four sims SIGKILLed under load: failed requests per proxy)
#   3. routing quality (shared-prefix streaming workload: mean TTFT, round robin vs Atoll's picker)
# Section 1a runs twice: with everything sharing the cores, and (2+ cores) with the load generator and sim pinned to
# CPU 0 and the proxy under test to CPU 1 (taskset), as a proxy has cores of its own in production: the p99 a proxy
# adds is then not mixed with wrk and the sim preempting it. BENCH_PIN=0 skips the pinned group.
# Prints a side-by-side table and writes it to bench/results/gateway-<date>.md, or the next free gateway-<date>b.md,
# c, ... when that exists (BENCH_OUT overrides).
# Uses only 127.0.0.1 and free ports, stops everything it started, and kills itself after BENCH_MAX_SECONDS.
# Settings (env): BENCH_DURATION (s per wrk run, 15), BENCH_FAILOVER_DURATION (10), BENCH_KILL_AT (3),
#   BENCH_CONNECTIONS (64), BENCH_THREADS (2), BENCH_TTFT_REQUESTS (600), BENCH_MAX_SECONDS (3900, after the build),
#   BENCH_WARM (s of unmeasured load per target before its first measured run, 60, as back-to-back 2 s wrk runs:
#   see warm_churn in common.sh), BENCH_ROUNDS (interleaved rounds of section 1, 3), BENCH_SAT_TTFT (the sims' time
#   to first token in sections 1b-1d, ms, 1: low enough that the CPU, not the sim's delay, limits requests/s),
#   BENCH_SAT_CONNECTIONS (wrk connections of section 1d, 256: at 64 a fast host is latency-bound, every target at the
#   sim's ceiling, and requests/s compare latency; 1d compares what each proxy's CPU cost allows),
#   BENCH_KEEP=1 keeps logs,
#   BENCH_REV=<commit> benchmarks a clean build of that commit instead of the working tree,
#   BENCH_BUILT=<text> describes the build in the report (for a tree that is not a git checkout).
# Section 1 also reports CPU time per request of each proxy (all its processes, workers included), of the sims and
# of wrk, from /proc before and after the measured run: less sensitive to a busy machine than latency, and how many
# methods Atoll's JIT compiled during each measured run (0 once the server is warm; see warm_churn).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
DURATION=${BENCH_DURATION:-15}
FAILOVER_DURATION=${BENCH_FAILOVER_DURATION:-10}
KILL_AT=${BENCH_KILL_AT:-3}
CONNS=${BENCH_CONNECTIONS:-64}
SAT_CONNS=${BENCH_SAT_CONNECTIONS:-256}
THREADS=${BENCH_THREADS:-2}
TTFT_REQUESTS=${BENCH_TTFT_REQUESTS:-600}
MAX_SECONDS=${BENCH_MAX_SECONDS:-3900}
WARM=${BENCH_WARM:-60}
SAT_TTFT=${BENCH_SAT_TTFT:-1}
ROUNDS=${BENCH_ROUNDS:-3}
PIN=${BENCH_PIN:-1}
[ "$(nproc)" -ge 2 ] || PIN=0
MODEL=bench-model
DATE=$(date -u +%Y-%m-%d)
OUT=${BENCH_OUT:-}
if [ -z "$OUT" ]; then
  # A later run on the same day gets the next free suffix (gateway-<date>b.md, c, ...): never overwrite a result.
  OUT=$root/bench/results/gateway-$DATE.md
  for suffix in b c d e f g h i j k l m n o p q r s t u v w x y z; do
    [ -e "$OUT" ] || break
    OUT=$root/bench/results/gateway-$DATE$suffix.md
  done
fi
COMMAND="$0${*:+ $*}"
for v in BENCH_REV BENCH_PIN BENCH_DURATION BENCH_WARM BENCH_SAT_TTFT BENCH_ROUNDS BENCH_FAILOVER_DURATION BENCH_KILL_AT BENCH_CONNECTIONS BENCH_SAT_CONNECTIONS BENCH_THREADS BENCH_TTFT_REQUESTS; do
  if [ -n "${!v:-}" ]; then COMMAND="$v=${!v} $COMMAND"; fi
done

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# ---------- tools ----------
# freeport, ticks (CPU clock ticks of processes and their descendants), HZ and debian_packages
# shellcheck source=common.sh
. "$here/common.sh"
debian_packages nginx haproxy wrk
command -v python3 >/dev/null || die "python3 is needed (ttft.py)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)

# ---------- process bookkeeping ----------
tmp=$(mktemp -d /tmp/atoll-bench.XXXXXX)
pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "${watchdog:-}" ]; then kill -TERM "$watchdog" 2>/dev/null || true; fi
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${BENCH_KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then log "logs kept in $tmp"; else rm -rf "$tmp"; fi
  exit $rc
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# Binary under test: the working tree through ./atoll (default), or a clean snapshot of BENCH_REV (e.g. HEAD) built
# in a temp dir, so uncommitted work elsewhere in src/ is not measured. Either way a private copy is run: a rebuild
# of src/ during the run must not swap the binary under running processes.
if [ -n "${BENCH_REV:-}" ]; then
  rev=$(git -C "$root" rev-parse --verify "${BENCH_REV}^{commit}") || die "BENCH_REV=$BENCH_REV is not a commit"
  log "building atoll at ${rev:0:9} (Release, clean snapshot)"
  mkdir -p "$tmp/src"
  git -C "$root" archive "$rev" | tar -x -C "$tmp/src"
  DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet build "$tmp/src/src/Atoll.Cli/Atoll.Cli.csproj" -c Release -nologo -v quiet \
    >"$tmp/build.log" 2>&1 || die "build failed: $(tail -5 "$tmp/build.log")"
  cp -a "$tmp/src/src/Atoll.Cli/bin/Release/net10.0" "$tmp/atoll-bin"
  BUILT="${rev:0:9} (clean snapshot of BENCH_REV=$BENCH_REV)"
else
  log "building atoll (Release, working tree)"
  "$root/atoll" --help >/dev/null
  cp -a "$root/src/Atoll.Cli/bin/Release/net10.0" "$tmp/atoll-bin"
  if [ -n "${BENCH_BUILT:-}" ]; then
    BUILT=$BENCH_BUILT
  else
    BUILT="working tree at $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- src 2>/dev/null && [ -z "$(git -C "$root" status --porcelain -- src)" ] || echo ' + uncommitted changes under src/')"
  fi
fi
ATOLL="$tmp/atoll-bin/atoll"
[ -x "$ATOLL" ] || die "no atoll binary at $ATOLL"
# The time bound covers the measurements (the build above is usually a no-op).
( trap 'kill "$sp" 2>/dev/null; exit 0' TERM; sleep "$MAX_SECONDS" & sp=$!; wait "$sp"
  echo "[bench] over ${MAX_SECONDS}s: stopping" >&2; kill -TERM $$ ) &
watchdog=$!
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# Pinning (section 1a'): commands start with "${PIN_LOAD[@]}" (wrk, sims) or "${PIN_PROXY[@]}" (the proxies), empty
# unless pin_cores is on.
PIN_LOAD=(); PIN_PROXY=()
pin_cores() { if [ "$1" = on ]; then PIN_LOAD=(taskset -c 0); PIN_PROXY=(taskset -c 1); else PIN_LOAD=(); PIN_PROXY=(); fi; }


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

wait_until() { # wait_until SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  local until=$((SECONDS + limit))
  while [ $SECONDS -lt $until ]; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  die "$what not ready after ${limit}s"
}

# start_sims COUNT NAME-PREFIX SIM-ARGS... -> sets SIM_PORTS and SIM_PIDS
start_sims() {
  local count=$1 prefix=$2; shift 2
  SIM_PORTS=(); SIM_PIDS=()
  local i port
  for i in $(seq 1 "$count"); do
    port=$(freeport)
    "${PIN_LOAD[@]}" "$ATOLL" sim --host 127.0.0.1 --port "$port" --model "$MODEL" --instance "$prefix-$i" --seed "$i" "$@" \
      >"$tmp/sim-$prefix-$i.log" 2>&1 &
    pids+=($!); SIM_PIDS+=($!); SIM_PORTS+=("$port")
  done
  for port in "${SIM_PORTS[@]}"; do wait_until 30 "sim :$port" curl -fsS "http://127.0.0.1:$port/health"; done
}

# start_atoll NAME CAPACITY AGENTS PORTS... -> sets ATOLL_PORT, ATOLL_PIDS (server and agents), TOKEN
# AGENTS=0: the sims as static endpoints (`--endpoint MODEL=URL` once per sim), the same list nginx and HAProxy get.
# AGENTS=1: each sim reported by an `atoll agent` of its own (one node each), the production path, with node
# readiness and the agents' batch workers; the agents run on this machine, so their CPU counts as Atoll's, though in
# production they run on the GPU nodes.
start_atoll() {
  local name=$1 capacity=$2 agents=$3; shift 3
  local dir="$tmp/atoll-$name" p static=()
  [ "$agents" = 1 ] || for p in "$@"; do static+=(--endpoint "$MODEL=http://127.0.0.1:$p"); done
  ATOLL_PORT=$(freeport)
  # One line per JIT-compiled method in $dir.jit: run_wrk counts those of each measured run.
  ATOLL_JIT=$dir.jit
  DOTNET_JitStdOutFile=$ATOLL_JIT DOTNET_JitDisasmSummary=1 \
    "${PIN_PROXY[@]}" "$ATOLL" server --listen "http://127.0.0.1:$ATOLL_PORT" --data "$dir" --endpoint-capacity "$capacity" "${static[@]}" >"$dir.log" 2>&1 &
  ATOLL_PIDS=($!); pids+=($!)
  wait_until 60 "atoll server ($name) token" test -s "$dir/admin.token"
  TOKEN=$(cat "$dir/admin.token")
  wait_until 30 "atoll server ($name)" curl -fsS "http://127.0.0.1:$ATOLL_PORT/healthz"
  if [ "$agents" = 1 ]; then
    start_agents "http://127.0.0.1:$ATOLL_PORT" "$TOKEN" "$MODEL" "$dir" "$@" -- "${PIN_PROXY[@]}" "$ATOLL"
    ATOLL_PIDS+=("${AGENT_PIDS[@]}"); pids+=("${AGENT_PIDS[@]}")
  fi
  wait_until 60 "atoll server ($name)" atoll_ready "http://127.0.0.1:$ATOLL_PORT" "$TOKEN" "$MODEL" "$#"
}

nginx_conf() { # nginx_conf FILE LISTEN-PORT BALANCE(least_conn|rr) BUFFERING(on|off) PORTS...
  local file=$1 listen=$2 balance=$3 buffering=$4; shift 4
  local servers="" p
  for p in "$@"; do servers+="    server 127.0.0.1:$p;"$'\n'; done
  local dir; dir=$(dirname "$file")
  mkdir -p "$dir/nginx-tmp"
  cat >"$file" <<EOF
worker_processes auto;
pid $dir/nginx-$listen.pid;
error_log $dir/nginx-$listen-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/nginx-tmp/body;
  proxy_temp_path $dir/nginx-tmp/proxy;
  fastcgi_temp_path $dir/nginx-tmp/fastcgi;
  uwsgi_temp_path $dir/nginx-tmp/uwsgi;
  scgi_temp_path $dir/nginx-tmp/scgi;
  upstream sims {
    $([ "$balance" = least_conn ] && echo "least_conn;")
$servers    keepalive 128;
  }
  server {
    listen 127.0.0.1:$listen;
    location / {
      proxy_pass http://sims;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering $buffering;
      proxy_next_upstream error timeout http_502 http_503 http_504 non_idempotent;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 5s;
      proxy_read_timeout 60s;
    }
  }
}
EOF
}

haproxy_conf() { # haproxy_conf FILE LISTEN-PORT PORTS...
  local file=$1 listen=$2; shift 2
  local servers="" p i=0
  for p in "$@"; do i=$((i + 1)); servers+="  server s$i 127.0.0.1:$p check inter 1s fall 2 rise 2"$'\n'; done
  cat >"$file" <<EOF
global
  maxconn 8192
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  retries 3
  option redispatch 1
  retry-on all-retryable-errors
  option http-buffer-request
  http-reuse always
frontend fe
  bind 127.0.0.1:$listen
  default_backend sims
backend sims
  balance leastconn
  option httpchk GET /health
$servers
EOF
}

post_ok() { # post_ok URL: one chat request answered 200
  curl -fsS -o /dev/null -X POST "$1/v1/chat/completions" -H "Authorization: Bearer ${TOKEN:-none}" \
    -H 'Content-Type: application/json' -d "{\"model\":\"$MODEL\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":4}"
}

# start_proxy KIND NAME CAPACITY PORTS... (KIND: atoll|atoll-agents|nginx|nginx-rr|haproxy) -> sets PROXY_URL, PROXY_PIDS
start_proxy() {
  local kind=$1 name=$2 capacity=$3; shift 3
  local port
  case $kind in
    atoll | atoll-agents)
      start_atoll "$name" "$capacity" "$([ "$kind" = atoll-agents ] && echo 1 || echo 0)" "$@"
      PROXY_PIDS=("${ATOLL_PIDS[@]}"); port=$ATOLL_PORT ;;
    nginx | nginx-rr | nginx-stream | nginx-rr-stream)
      port=$(freeport)
      local balance=least_conn buffering=on
      [[ $kind == nginx-rr* ]] && balance=rr
      [[ $kind == *stream ]] && buffering=off
      nginx_conf "$tmp/nginx-$name.conf" "$port" "$balance" "$buffering" "$@"
      "${PIN_PROXY[@]}" "$NGINX" -c "$tmp/nginx-$name.conf" -g 'daemon off;' >"$tmp/nginx-$name.log" 2>&1 &
      PROXY_PIDS=($!); pids+=($!) ;;
    haproxy)
      port=$(freeport)
      haproxy_conf "$tmp/haproxy-$name.cfg" "$port" "$@"
      "${PIN_PROXY[@]}" "$HAPROXY" -db -f "$tmp/haproxy-$name.cfg" >"$tmp/haproxy-$name.log" 2>&1 &
      PROXY_PIDS=($!); pids+=($!)
      sleep 2.5 ;; # let the first health checks pass (rise 2, inter 1s)
  esac
  PROXY_URL="http://127.0.0.1:$port"
  wait_until 30 "$kind ($name)" post_ok "$PROXY_URL"
}

declare -A R # results: R[key.field]
# run_wrk KEY URL SECONDS [KILL_PID KILL_AT]: measured wrk run; fields rps p50 p99 requests status sock, and with
# CPU_PROXY / CPU_SIMS set (pid lists) cpu_proxy cpu_sims cpu_wrk in ms per request, and with JIT_FILE set (an Atoll
# server's DOTNET_JitStdOutFile) jit: the methods it compiled during the run
run_wrk() {
  local key=$1 url=$2 secs=$3 kill_pid=${4:-} kill_at=${5:-}
  local out="$tmp/wrk-$key.txt"
  if [ -n "$kill_pid" ]; then ( sleep "$kill_at"; kill -KILL "$kill_pid" 2>/dev/null ) & fi
  local p0=0 s0=0 w0=0
  [ -n "${CPU_PROXY:-}" ] && p0=$(ticks $CPU_PROXY)
  [ -n "${CPU_SIMS:-}" ] && s0=$(ticks $CPU_SIMS)
  w0=$(awk '{print $16 + $17}' /proc/$$/stat) # CPU of this shell's waited-for children: wrk, once it has ended
  local j0=0; [ -n "${JIT_FILE:-}" ] && j0=$(jit_count "$JIT_FILE")
  BENCH_AUTH=${TOKEN:-none} BENCH_MODEL=$MODEL timeout $((secs + 30)) \
    "${PIN_LOAD[@]}" wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --timeout 10s --latency -s "$here/chat.lua" "$url/v1/chat/completions" >"$out" 2>&1 \
    || die "wrk $key: $(tail -3 "$out")"
  local line; line=$(grep '^BENCH ' "$out") || die "wrk $key printed no summary: $(tail -3 "$out")"
  local kv k v
  for kv in ${line#BENCH }; do k=${kv%%=*}; v=${kv#*=}; R[$key.$k]=$v; done
  R[$key.sock]=$(( ${R[$key.connect]} + ${R[$key.read]} + ${R[$key.write]} + ${R[$key.timeout]} ))
  local cpu=""
  if [ -n "${CPU_PROXY:-}" ] || [ -n "${CPU_SIMS:-}" ]; then
    local p1=0 s1=0 w1
    [ -n "${CPU_PROXY:-}" ] && p1=$(ticks $CPU_PROXY)
    [ -n "${CPU_SIMS:-}" ] && s1=$(ticks $CPU_SIMS)
    w1=$(awk '{print $16 + $17}' /proc/$$/stat)
    ms() { awk -v t="$1" -v n="${R[$key.requests]}" -v hz="$HZ" 'BEGIN { printf "%.4f", t * 1000 / hz / (n > 0 ? n : 1) }'; }
    R[$key.cpu_proxy]=$(ms $((p1 - p0)))
    R[$key.cpu_sims]=$(ms $((s1 - s0)))
    R[$key.cpu_wrk]=$(ms $((w1 - w0)))
    # The CPU of wrk, the proxy and the sims over the run's length, in % of all the cores. (Not the machine's busy
    # time from /proc/stat: that is sampled at the timer tick, and work that wakes on timers, as the sims' does, falls
    # between ticks; it read 4 % for a run these processes kept 40 % busy.)
    R[$key.busy]=$(awk -v t=$((p1 - p0 + s1 - s0 + w1 - w0)) -v s="${R[$key.seconds]}" -v hz="$HZ" -v c="$(nproc)" \
      'BEGIN { printf "%.1f", 100 * t / hz / (s > 0 ? s : 1) / c }')
    [ -z "${CPU_PROXY:-}" ] && R[$key.cpu_proxy]="—"
    cpu=" cpu_ms_per_req: proxy=${R[$key.cpu_proxy]} sims=${R[$key.cpu_sims]} wrk=${R[$key.cpu_wrk]} cpu_busy_pct=${R[$key.busy]}"
  fi
  if [ -n "${JIT_FILE:-}" ]; then
    R[$key.jit]=$(( $(jit_count "$JIT_FILE") - j0 ))
    cpu+=" jit_methods=${R[$key.jit]}"
  fi
  RAW+="$key: $line$cpu"$'\n'
  log "$key: ${R[$key.rps]} req/s, p50 ${R[$key.p50_ms]} ms, p99 ${R[$key.p99_ms]} ms, non-2xx ${R[$key.status]}, socket errors ${R[$key.sock]}$cpu"
}

warm_run() { # warm_run URL SECONDS: one unmeasured wrk run
  BENCH_AUTH=${TOKEN:-none} BENCH_MODEL=$MODEL timeout $(($2 + 20)) \
    "${PIN_LOAD[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$2s" --timeout 10s -s "$here/chat.lua" "$1/v1/chat/completions" >/dev/null 2>&1 || true
}
warm() { # warm URL: BENCH_WARM s of unmeasured load in short runs (JIT tiers, thread pool, connection pools), the same for every target
  warm_churn "$WARM" warm_run "$1"
}

RAW=""
# Every target gets the same request bytes: a bearer token of the admin token's shape until Atoll's real one is known
# (the sims and nginx/HAProxy ignore it; Atoll checks it).
TOKEN=$(python3 -c 'import secrets; print("atoll_" + secrets.token_urlsafe(32))')
log "machine: $(nproc) cores; results -> $OUT"

# ---------- 1. overhead and throughput ----------
# Same sim settings everywhere: fixed delay, no jitter, no prefill, room for every connection (max-num-seqs 256),
# and the Atoll endpoint capacity set to the same 256 (its documented meaning: the server's max-num-seqs).
SIM_FIXED=(--itl 0 --jitter 0 --prefill-per-token 0 --max-num-seqs 256 --max-waiting 1024 --default-max-tokens 16)
measure_set() { # measure_set PREFIX BACKEND-COUNT PORTS...  (single-backend sets include "direct")
  # Every target runs at once (idle ones cost nothing measurable), is warmed once, then ROUNDS rounds each measure
  # every target in turn: noise on this shared machine lands on single runs, and the medians (and the per-round
  # differences to direct) do not follow it.
  local prefix=$1 n=$2; shift 2
  local kind r targets=()
  local -a proxies
  read -r -a proxies <<<"${MEASURE_PROXIES:-atoll nginx haproxy}"
  local -A url cpu jit tok
  if [ "$n" = 1 ]; then targets+=(direct); url[direct]="http://127.0.0.1:$1"; cpu[direct]=""; tok[direct]=$TOKEN; fi
  for kind in "${proxies[@]}"; do
    start_proxy "$kind" "$prefix-$kind" 256 "$@"
    # TOKEN is now the admin token of the last Atoll started: this one's, if it is an Atoll (the others ignore it)
    url[$kind]=$PROXY_URL; cpu[$kind]="${PROXY_PIDS[*]}"; tok[$kind]=$TOKEN; targets+=("$kind")
    jit[$kind]=; [[ $kind == atoll* ]] && jit[$kind]=$ATOLL_JIT
  done
  for kind in "${targets[@]}"; do TOKEN=${tok[$kind]} warm "${url[$kind]}"; done
  CPU_SIMS="${SIM_PIDS_NOW[*]}"
  for r in $(seq 1 "$ROUNDS"); do
    for kind in "${targets[@]}"; do
      TOKEN=${tok[$kind]} CPU_PROXY="${cpu[$kind]}" JIT_FILE="${jit[$kind]:-}" run_wrk "$prefix.$kind.r$r" "${url[$kind]}" "$DURATION"
    done
  done
  CPU_SIMS=""
  for kind in "${targets[@]}"; do summarize_rounds "$prefix.$kind" "$([ "$n" = 1 ] && echo "$prefix.direct")"; done
  for kind in "${proxies[@]}"; do vs_nginx "$prefix.$kind" "$prefix.nginx"; done
  # shellcheck disable=SC2086 # pid lists
  for kind in "${proxies[@]}"; do stop ${cpu[$kind]}; done
}

f() { awk -v x="$1" 'BEGIN { printf "%.2f", x }'; }
f3() { awk -v x="$1" 'BEGIN { printf "%.3f", x }'; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) printf "%.4f\n", a[(NR + 1) / 2]; else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# summarize_rounds KEY [DIRECT-KEY]: KEY.FIELD = median of KEY.rN.FIELD over the rounds (errors and requests summed),
# KEY.p99_rounds lists each round's p99, and KEY.over = median of the per-round p99 differences to DIRECT-KEY.
summarize_rounds() {
  local key=$1 base=${2:-} f r vals sum
  for f in rps p50_ms p99_ms cpu_proxy cpu_sims cpu_wrk busy; do
    vals=()
    for r in $(seq 1 "$ROUNDS"); do vals+=("${R[$key.r$r.$f]:-—}"); done
    if [ "${vals[0]}" = "—" ]; then R[$key.$f]="—"; else R[$key.$f]=$(printf '%s\n' "${vals[@]}" | median); fi
  done
  for f in status sock requests; do
    sum=0
    for r in $(seq 1 "$ROUNDS"); do sum=$((sum + ${R[$key.r$r.$f]:-0})); done
    R[$key.$f]=$sum
  done
  R[$key.p99_rounds]=$(for r in $(seq 1 "$ROUNDS"); do f "${R[$key.r$r.p99_ms]}"; echo; done | paste -sd' ')
  if [ -n "$base" ] && [ "$base" != "$key" ]; then
    R[$key.over]=$(for r in $(seq 1 "$ROUNDS"); do awk -v a="${R[$key.r$r.p99_ms]}" -v b="${R[$base.r$r.p99_ms]}" 'BEGIN { print a - b }'; done | median)
  fi
}

# vs_nginx KEY NGINX-KEY: KEY.vs_nginx_rounds lists each round's requests/s over that round's nginx run, and
# KEY.vs_nginx is their median: a slow spell of the machine that hits one target's run skews one round's ratio, while
# the medians of requests/s may come from different rounds and compare a slow spell of one with a quiet one of the other.
vs_nginx() {
  local key=$1 base=$2 r
  R[$key.vs_nginx_rounds]=$(for r in $(seq 1 "$ROUNDS"); do
    awk -v a="${R[$key.r$r.rps]}" -v b="${R[$base.r$r.rps]}" 'BEGIN { printf "%.3f\n", (b > 0 ? a / b : 0) }'; done | paste -sd' ')
  R[$key.vs_nginx]=$(tr ' ' '\n' <<<"${R[$key.vs_nginx_rounds]}" | median)
}

log "1a. latency overhead: one sim with --ttft 50 (64 in flight, CPU not saturated)"
start_sims 1 lat --ttft 50 "${SIM_FIXED[@]}"
SIM_PIDS_NOW=("${SIM_PIDS[@]}")
measure_set lat 1 "${SIM_PORTS[@]}"
stop "${SIM_PIDS[@]}"

if [ "$PIN" = 1 ]; then
  log "1a'. the same with wrk and the sim on CPU 0 and each proxy on CPU 1"
  pin_cores on
  start_sims 1 latp --ttft 50 "${SIM_FIXED[@]}"
  SIM_PIDS_NOW=("${SIM_PIDS[@]}")
  measure_set latp 1 "${SIM_PORTS[@]}"
  stop "${SIM_PIDS[@]}"
  pin_cores off
fi

log "1b/1c. fast backends: sims with --ttft $SAT_TTFT (CPU-bound on a slow or busy host; \"CPU busy\" says)"
start_sims 4 sat --ttft "$SAT_TTFT" "${SIM_FIXED[@]}"
all4=("${SIM_PORTS[@]}"); sat_pids=("${SIM_PIDS[@]}")
SIM_PIDS_NOW=("${sat_pids[0]}")
measure_set sat1 1 "${all4[0]}"
SIM_PIDS_NOW=("${sat_pids[@]}")
measure_set sat4 4 "${all4[@]}"
# Atoll with an agent per sim, in rounds of its own with nginx: the agents' batch workers read a busy sim's
# /metrics once a second whichever proxy keeps it busy, so they must not run during the other targets' runs.
MEASURE_PROXIES="atoll-agents nginx" measure_set sat4a 4 "${all4[@]}"
log "1d. CPU-bound: the first sim again, wrk -c$SAT_CONNS"
SIM_PIDS_NOW=("${sat_pids[0]}")
CONNS=$SAT_CONNS measure_set satc 1 "${all4[0]}"
stop "${sat_pids[@]}"

# ---------- 2. failover ----------
log "2. failover: 4 fresh sims per proxy, ${FAILOVER_DURATION}s of load, one sim SIGKILLed at ${KILL_AT}s"
for kind in atoll nginx haproxy; do
  start_sims 4 "fo-$kind" --ttft 20 --itl 0 --jitter 0 --prefill-per-token 0 --max-num-seqs 64 --default-max-tokens 16
  start_proxy "$([ "$kind" = atoll ] && echo atoll-agents || echo "$kind")" "fo-$kind" 64 "${SIM_PORTS[@]}"
  warm "$PROXY_URL"
  run_wrk "fo.$kind" "$PROXY_URL" "$FAILOVER_DURATION" "${SIM_PIDS[1]}" "$KILL_AT"
  if [ "$kind" = atoll ]; then
    R[fo.atoll.retries]=$(curl -fsS "$PROXY_URL/metrics" | awk '/^atoll_gateway_retries_total/ {s += $2} END {print s + 0}')
  fi
  stop "${PROXY_PIDS[@]}" "${SIM_PIDS[@]}"
done

# ---------- 3. routing quality ----------
# A prefix cache of 96 blocks x 64 chars holds about 3 of the 8 ~2,000-character documents per sim: the working set
# fits in the fleet (4 x 3 > 8) but not in one sim, which is when where a request goes decides whether prefill is paid.
log "3. routing quality: shared prefixes, streaming, fresh sims per router"
SIM_PREFIX=(--ttft 20 --itl 5 --jitter 0 --prefill-per-token 0.5 --prefix-cache-blocks 96 --max-num-seqs 16 --max-waiting 256)
for kind in nginx-rr-stream nginx-stream atoll; do
  start_sims 4 "rt-$kind" "${SIM_PREFIX[@]}"
  start_proxy "$([ "$kind" = atoll ] && echo atoll-agents || echo "$kind")" "rt-$kind" 16 "${SIM_PORTS[@]}"
  out="$tmp/ttft-$kind.txt"
  timeout 150 python3 "$here/ttft.py" --url "$PROXY_URL" --token "${TOKEN:-none}" --model "$MODEL" --requests "$TTFT_REQUESTS" \
    --concurrency 16 --max-tokens 8 --warmup 40 --deadline 100 --label "$kind" >"$out" 2>"$out.err" || die "ttft.py $kind: $(tail -3 "$out.err")"
  line=$(grep '^TTFT ' "$out")
  RAW+="rt.$kind: $line"$'\n'
  for f in requests errors steady_mean_ms mean_ms p50_ms p90_ms cache_hit_pct; do
    R[rt.$kind.$f]=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1][5:])[sys.argv[2]])' "$line" "$f")
  done
  log "rt.$kind: mean TTFT ${R[rt.$kind.steady_mean_ms]} ms (steady), cache hits ${R[rt.$kind.cache_hit_pct]}%, errors ${R[rt.$kind.errors]}"
  stop "${PROXY_PIDS[@]}" "${SIM_PIDS[@]}"
done

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------- report ----------
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.2f", a - b }'; }
pct() { if [ -n "${1:-}" ]; then awk -v b="$1" 'BEGIN { printf "%.0f", b }'; else echo "—"; fi; } # pct VALUE: whole percent
row() { # row KEY LABEL BACKENDS DIRECT-KEY
  local k=$1 over="—"
  [ -n "${4:-}" ] && [ "$4" != "$k" ] && over=$(awk -v d="${R[$k.over]}" 'BEGIN { printf "%+.2f", d }')
  [ "${4:-}" = "$k" ] && over="(baseline)"
  local vs="—"
  [ -n "${R[$k.vs_nginx]:-}" ] && [[ $k != *.nginx ]] && vs="$(f3 "${R[$k.vs_nginx]}") (${R[$k.vs_nginx_rounds]})"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$2" "$3" "$(f "${R[$k.rps]}")" "$vs" "$(f "${R[$k.p50_ms]}")" "$(f "${R[$k.p99_ms]}")" \
    "${R[$k.p99_rounds]}" "$over" "$(( ${R[$k.status]} + ${R[$k.sock]} ))" "${R[$k.cpu_proxy]:-—}" "${R[$k.cpu_sims]:-—}" "$(pct "${R[$k.busy]:-}")"
}
verdict() { if [ "$1" = 1 ]; then echo "MET"; else echo "MISSED"; fi; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? 1 : 0 }'; }

lat_over=$(awk -v d="${R[lat.atoll.over]}" 'BEGIN { printf "%.2f", d }')
# peers GROUP: the peers' p99 over direct in the same rounds, and in how many rounds Atoll's p99 was at or below nginx's,
# so a reader can tell a miss that every proxy shares (the machine's noise) from one of Atoll's own.
peers() {
  local g=$1 below=0 r
  for r in $(seq 1 "$ROUNDS"); do
    below=$((below + $(le "${R[$g.atoll.r$r.p99_ms]}" "${R[$g.nginx.r$r.p99_ms]}")))
  done
  printf '; same rounds: nginx %s, HAProxy %s ms; Atoll at or below nginx in %s of %s rounds' \
    "$(awk -v d="${R[$g.nginx.over]}" 'BEGIN { printf "%+.2f", d }')" "$(awk -v d="${R[$g.haproxy.over]:-nan}" 'BEGIN { printf "%+.2f", d }')" "$below" "$ROUNDS"
}
latp_over=$(awk -v d="${R[latp.atoll.over]:-nan}" 'BEGIN { printf "%.2f", d }')
sat_over=$(awk -v d="${R[sat1.atoll.over]}" 'BEGIN { printf "%.2f", d }')
ratio=$(awk -v a="${R[rt.atoll.steady_mean_ms]}" -v b="${R[rt.nginx-rr-stream.steady_mean_ms]}" 'BEGIN { printf "%.2f", a / b }')
ratio_lc=$(awk -v a="${R[rt.atoll.steady_mean_ms]}" -v b="${R[rt.nginx-stream.steady_mean_ms]}" 'BEGIN { printf "%.2f", a / b }')

table=$(
  echo "### 1. Overhead and throughput — non-streaming, wrk -t$THREADS -c$CONNS (1d: -c$SAT_CONNS), $ROUNDS interleaved rounds of ${DURATION}s per target after ${WARM}s of warm-up (runs of ${WARM_PIECE:-2}s)"
  echo
  echo "Every target of a group runs at once; each round measures them one after another. Requests/s, p50, p99 and CPU are"
  echo "medians over the rounds; \"p99 over direct\" is the median of the per-round differences (each round's target minus"
  echo "that round's direct run), and \"÷ nginx\" the median of the per-round requests/s ratios to that round's nginx run."
  echo "CPU columns: CPU time (user+system) per request of the proxy's processes and of the sims. Atoll gets the sims as static"
  echo "endpoints (\`--endpoint\`), the list nginx and HAProxy get; the row \"from 4 agents\" has an \`atoll agent\` per sim instead"
  echo "(the production path), whose CPU is counted as Atoll's, though in production agents run on the GPU nodes; it is measured"
  echo "in rounds of its own with nginx (its nginx runs are not in the table), so its agents do not run during the other rows' runs."
  echo "CPU busy: the CPU time of wrk, the proxy and the sims over the run's length, in % of all $(nproc) cores (median over the rounds)."
  echo "Near 100 % the CPU limits requests/s and the rows compare the targets' CPU cost; well below it, the sims' answer time"
  echo "and each target's latency do (requests/s = connections ÷ latency), and requests/s differences are latency differences."
  jits=""
  for g in lat.atoll latp.atoll sat1.atoll sat4.atoll sat4a.atoll-agents satc.atoll; do
    if [ -n "${R[$g.r1.jit]:-}" ]; then
      label=${g%.atoll}; label=${label/.atoll-agents/ (agents)}
      jits+=" $label $(for r in $(seq 1 "$ROUNDS"); do printf '%s/' "${R[$g.r$r.jit]:-?}"; done | sed 's:/$::'),"
    fi
  done
  echo "Methods Atoll's JIT compiled during its measured runs, per round (0 = fully warm):${jits%,}."
  echo
  echo "| Target | Backends | Requests/s | ÷ nginx: median (per round) | p50 ms | p99 ms | p99 per round ms | p99 over direct ms | Errors | Proxy CPU ms/req | Sims CPU ms/req | CPU busy % |"
  echo "|---|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|"
  echo "| **1a. latency: sim --ttft 50 (64 in flight, CPU not saturated)** | | | | | | | | | | | |"
  row lat.direct direct "1 sim" lat.direct
  row lat.atoll Atoll "1 sim" lat.direct
  row lat.nginx nginx "1 sim" lat.direct
  row lat.haproxy HAProxy "1 sim" lat.direct
  if [ "$PIN" = 1 ]; then
    echo "| **1a′. latency, pinned: wrk and the sim on CPU 0, the proxy on CPU 1 (taskset)** | | | | | | | | | | | |"
    row latp.direct direct "1 sim" latp.direct
    row latp.atoll Atoll "1 sim" latp.direct
    row latp.nginx nginx "1 sim" latp.direct
    row latp.haproxy HAProxy "1 sim" latp.direct
  fi
  echo "| **1b. fast backend: sim --ttft $SAT_TTFT, one backend (CPU-bound when CPU busy is near 100 %)** | | | | | | | | | | | |"
  row sat1.direct direct "1 sim" sat1.direct
  row sat1.atoll Atoll "1 sim" sat1.direct
  row sat1.nginx nginx "1 sim" sat1.direct
  row sat1.haproxy HAProxy "1 sim" sat1.direct
  echo "| **1c. throughput: sim --ttft $SAT_TTFT, four backends (same 4 sims)** | | | | | | | | | | | |"
  row sat4.atoll Atoll "4 sims"
  row sat4a.atoll-agents "Atoll, endpoints from 4 agents on this machine (÷ nginx: rounds of its own)" "4 sims"
  row sat4.nginx "nginx least_conn" "4 sims"
  row sat4.haproxy "HAProxy leastconn" "4 sims"
  echo "| **1d. CPU-bound: sim --ttft $SAT_TTFT, one backend, wrk -c$SAT_CONNS (the 1b sim)** | | | | | | | | | | | |"
  row satc.direct direct "1 sim" satc.direct
  row satc.atoll Atoll "1 sim" satc.direct
  row satc.nginx nginx "1 sim" satc.direct
  row satc.haproxy HAProxy "1 sim" satc.direct
  echo
  echo "### 2. Failover — 4 sims (--ttft 20), ${FAILOVER_DURATION}s of load, one sim SIGKILLed at ${KILL_AT}s"
  echo
  echo "| Proxy | Requests | Non-2xx | Socket errors (connect/read/write/timeout) | Failed total |"
  echo "|---|---:|---:|---:|---:|"
  for k in atoll nginx haproxy; do
    name=$k; [ $k = atoll ] && name="Atoll (retries: ${R[fo.atoll.retries]})"; [ $k = nginx ] && name=nginx; [ $k = haproxy ] && name=HAProxy
    printf '| %s | %s | %s | %s/%s/%s/%s | %s |\n' "$name" "${R[fo.$k.requests]}" "${R[fo.$k.status]}" \
      "${R[fo.$k.connect]}" "${R[fo.$k.read]}" "${R[fo.$k.write]}" "${R[fo.$k.timeout]}" "$(( ${R[fo.$k.status]} + ${R[fo.$k.sock]} ))"
  done
  echo
  echo "### 3. Routing quality — 8 shared ~2,000-char prefixes, streaming, 16 concurrent, $TTFT_REQUESTS requests, 4 sims (--prefill-per-token 0.5, --prefix-cache-blocks 96)"
  echo
  echo "| Router | Requests | Errors | Mean TTFT ms (steady) | p50 ms | p90 ms | Prefix-cache hit % | Atoll / this |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for k in nginx-rr-stream nginx-stream atoll; do
    case $k in nginx-rr-stream) name="round robin (nginx)"; r=$ratio ;; nginx-stream) name="least_conn (nginx)"; r=$ratio_lc ;; atoll) name="Atoll picker"; r="1.00" ;; esac
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "${R[rt.$k.requests]}" "${R[rt.$k.errors]}" "${R[rt.$k.steady_mean_ms]}" \
      "${R[rt.$k.p50_ms]}" "${R[rt.$k.p90_ms]}" "${R[rt.$k.cache_hit_pct]}" "$r"
  done
  echo
  echo "### Targets"
  echo
  echo "| Target | Measured | Verdict |"
  echo "|---|---|---|"
  echo "| Atoll p99 overhead over direct ≤ 1 ms, 64 concurrent (1a, unsaturated) | ${lat_over} ms$(peers lat) | $(verdict "$(le "$lat_over" 1)") |"
  if [ "$PIN" = 1 ]; then
    echo "| Atoll p99 overhead over direct ≤ 1 ms, 64 concurrent (1a′, unsaturated, proxy on its own core) | ${latp_over} ms$(peers latp) | $(verdict "$(le "$latp_over" 1)") |"
  fi
  echo "| Atoll p99 overhead over direct ≤ 1 ms, 64 concurrent (1b, fast backend; CPU busy $(pct "${R[sat1.atoll.busy]:-}") %) | ${sat_over} ms$(peers sat1) | $(verdict "$(le "$sat_over" 1)") |"
  for g in sat1 sat4 satc; do
    case $g in
      sat1) what="1b, one backend" ;;
      sat4) what="1c, four backends" ;;
      *) what="1d, one backend, $SAT_CONNS connections; CPU busy $(pct "${R[satc.atoll.busy]:-}") %" ;;
    esac
    # requests/s of a run with failed requests (a refused token answers fast) would measure the failures
    errors=$(( ${R[$g.atoll.status]} + ${R[$g.atoll.sock]} + ${R[$g.nginx.status]} + ${R[$g.nginx.sock]} ))
    echo "| Atoll throughput ≥ nginx ($what): median of per-round ratios | $(f3 "${R[$g.atoll.vs_nginx]}") (rounds ${R[$g.atoll.vs_nginx_rounds]}; medians $(f "${R[$g.atoll.rps]}") vs $(f "${R[$g.nginx.rps]}") req/s)$([ "$errors" = 0 ] || echo ", $errors failed requests") | $(if [ "$errors" = 0 ]; then verdict "$(le 1 "${R[$g.atoll.vs_nginx]}")"; else echo "INVALID: failed requests"; fi) |"
  done
  echo "| Failover: zero failed requests through Atoll | $(( ${R[fo.atoll.status]} + ${R[fo.atoll.sock]} )) failed | $(verdict "$(le "$(( ${R[fo.atoll.status]} + ${R[fo.atoll.sock]} ))" 0)") |"
  echo "| Routing: mean TTFT Atoll / round robin ≤ 0.6 | ${ratio} | $(verdict "$(le "$ratio" 0.6)") |"
)

echo
echo "$table"

mkdir -p "$(dirname "$OUT")"
{
  echo "# Gateway benchmark — $DATE"
  echo
  echo "Command (from the repository root):"
  echo
  echo '```'
  echo "$COMMAND"
  echo '```'
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))," \
    "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); run at $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Versions: atoll $BUILT, $("$NGINX" -v 2>&1 | sed 's/.*: //'), $("$HAPROXY" -v | head -1 | awk '{print "HAProxy " $3}'), $(wrk -v 2>&1 | head -1 | awk '{print "wrk " $2}'), .NET $(dotnet --version 2>/dev/null || echo '?')."
  echo "Load average (1/5/15 min) before the run: $LOAD_BEFORE; after: $LOAD_AFTER (other work on the machine counts here)."
  echo "Load generator, proxies and sims all share this machine; compare rows within one run, not across runs."
  echo "How each target is set up and why the rows are fair: bench/README.md."
  echo
  echo "$table"
  echo
  echo "<details><summary>Raw summaries</summary>"
  echo
  echo '```'
  printf '%s' "$RAW"
  echo '```'
  echo
  echo "</details>"
} >"$OUT"
log "wrote $OUT"
