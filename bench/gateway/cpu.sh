#!/usr/bin/env bash
# CPU and allocations per request of the gateway, less sensitive to machine noise than latency: the process CPU time
# (utime+stime from /proc/PID/stat, children included) and, for Atoll, the bytes the GC allocated, both taken before
# and after one fixed wrk run, divided by the requests wrk completed. One sim behind a static endpoint (no agents).
#   bench/gateway/cpu.sh [ATOLL-BINARY-DIR]      (default: the working tree's Release build, via ./atoll)
# Env: CPU_TARGETS (default "atoll"; any of atoll nginx haproxy direct), CPU_DURATION (s, 10), CPU_WARM (s of warm-up in runs of WARM_PIECE s, default 60 and 2),
#   CPU_TTFT (sim ms, 50), CPU_ATOLL_ENV ("NAME=VALUE ..." set for the Atoll server only),
#   CPU_CONNECTIONS (64), CPU_TRACE=1 also records a CPU sample trace of Atoll with dotnet-trace (CPU_TOOLS: where
#   dotnet-trace/dotnet-counters are, default /tmp/tools), CPU_PERF=1 records Atoll with `perf record -g` (run with
#   DOTNET_PerfMapEnabled=1 for JIT symbols; reports in /tmp/atoll-perf-*.txt), CPU_ALLOCS=1 prints what Atoll
#   allocates by type during the run (bench/gateway/allocs: the runtime's allocation ticks), CPU_SYSCALLS=1 counts the
#   proxy's system calls by kind and its context switches during the run with `perf stat` (any target but direct), CPU_KEEP=1 keeps the logs.
# Prints one line per target: CPU ms per request of the proxy (and its user/system split), of the sim and of wrk, and KB
# allocated per request.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
DURATION=${CPU_DURATION:-10}
WARM=${CPU_WARM:-60}
TTFT=${CPU_TTFT:-50}
CONNS=${CPU_CONNECTIONS:-64}
TARGETS=${CPU_TARGETS:-atoll}
TOOLS=${CPU_TOOLS:-/tmp/tools}
MODEL=bench-model
if [ -n "${1:-}" ]; then bin=$1; else "$root/atoll" --help >/dev/null; bin=$root/src/Atoll.Cli/bin/Release/net10.0; fi
tmp=$(mktemp -d /tmp/atoll-cpu.XXXXXX)
cp -a "$bin" "$tmp/bin"
ATOLL=$tmp/bin/atoll
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${CPU_KEEP:-0}" = 1 ]; then echo "logs in $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
# shellcheck source=common.sh
. "$here/common.sh"
need=(wrk)
case " $TARGETS " in *" nginx "*) need+=(nginx) ;; esac
case " $TARGETS " in *" haproxy "*) need+=(haproxy) ;; esac
[ "${CPU_PERF:-0}" = 1 ] || [ "${CPU_SYSCALLS:-0}" = 1 ] && need+=(linux-perf)
debian_packages "${need[@]}"

TOKEN=none
post_ok() { curl -fsS -o /dev/null -X POST "$1/v1/chat/completions" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"model\":\"$MODEL\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":4}"; }

sim_port=$(freeport)
"$ATOLL" sim --host 127.0.0.1 --port "$sim_port" --model "$MODEL" --instance cpu-1 --seed 1 --ttft "$TTFT" --itl 0 --jitter 0 \
  --prefill-per-token 0 --max-num-seqs 256 --max-waiting 1024 --default-max-tokens 16 >"$tmp/sim.log" 2>&1 &
sim_pid=$!; pids+=($sim_pid)
until_ok curl -fsS "http://127.0.0.1:$sim_port/health"

wrk_run() { # wrk_run URL SECONDS OUT
  BENCH_AUTH=$TOKEN BENCH_MODEL=$MODEL wrk -t2 -c"$CONNS" -d"$2s" --timeout 10s --latency -s "$here/chat.lua" "$1/v1/chat/completions" >"$3" 2>&1
}

wrk_warm() { wrk_run "$1" "$2" /dev/null; } # wrk_warm URL SECONDS

for target in $TARGETS; do
  TOKEN=none
  case $target in
    direct) url=http://127.0.0.1:$sim_port; ppid= ;;
    atoll)
      port=$(freeport)
      env ${CPU_ATOLL_ENV:-} "$ATOLL" server --listen "http://127.0.0.1:$port" --data "$tmp/atoll" --endpoint "$MODEL=http://127.0.0.1:$sim_port" \
        --endpoint-capacity 256 >"$tmp/atoll.log" 2>&1 &
      ppid=$!; pids+=($ppid)
      until_ok test -s "$tmp/atoll/admin.token"
      TOKEN=$(cat "$tmp/atoll/admin.token")
      url=http://127.0.0.1:$port
      until_ok post_ok "$url" ;;
    nginx)
      port=$(freeport)
      start_nginx "$tmp/ng" "$port" "$sim_port"
      ppid=$!; pids+=($ppid); url=http://127.0.0.1:$port
      until_ok post_ok "$url" ;;
    haproxy)
      port=$(freeport)
      printf 'global\n  maxconn 8192\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n  http-reuse always\nfrontend fe\n  bind 127.0.0.1:%s\n  default_backend sims\nbackend sims\n  balance leastconn\n  server s1 127.0.0.1:%s\n' \
        "$port" "$sim_port" >"$tmp/haproxy.cfg"
      haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.log" 2>&1 &
      ppid=$!; pids+=($ppid); url=http://127.0.0.1:$port
      until_ok post_ok "$url" ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
  esac
  # Warm-up (JIT tiers, pools) as back-to-back short runs, each with new connections (common.sh's warm_churn): one long
  # run leaves a .NET server compiling its per-connection code during the measured run (bench/README.md).
  warm_churn "$WARM" wrk_warm "$url"
  counters=
  if [ "$target" = atoll ] && [ -x "$TOOLS/dotnet-counters" ]; then
    "$TOOLS/dotnet-counters" collect -p "$ppid" --counters 'System.Runtime[dotnet.gc.heap.total_allocated]' --format csv \
      -o "$tmp/counters.csv" --refresh-interval 1 --duration "00:00:00:$(printf '%02d' $((DURATION + 5)))" >"$tmp/counters.log" 2>&1 &
    counters=$!
    sleep 2
  fi
  trace=
  if [ "$target" = atoll ] && [ "${CPU_TRACE:-0}" = 1 ]; then
    "$TOOLS/dotnet-trace" collect -p "$ppid" --profile dotnet-sampled-thread-time -o "$tmp/atoll.nettrace" --format Speedscope \
      --duration "00:00:00:$(printf '%02d' "$DURATION")" >"$tmp/trace.log" 2>&1 &
    trace=$!
    sleep 1
  fi
  allocs=
  if [ "$target" = atoll ] && [ "${CPU_ALLOCS:-0}" = 1 ]; then
    dotnet build "$here/allocs/allocs.csproj" -c Release -nologo -v quiet -o "$tmp/allocs" >"$tmp/allocs-build.log" 2>&1 \
      || { cat "$tmp/allocs-build.log" >&2; exit 1; }
    "$tmp/allocs/allocs" "$ppid" "$DURATION" "$tmp/allocs.nettrace" >"$tmp/allocs.txt" 2>&1 &
    allocs=$!
  fi
  perf=
  if [ "$target" = atoll ] && [ "${CPU_PERF:-0}" = 1 ]; then
    # Needs DOTNET_PerfMapEnabled=1 in the environment (JIT symbols in /tmp/perf-PID.map).
    perf record -F 999 -g -p "$ppid" -o "$tmp/perf.data" -- sleep "$DURATION" >"$tmp/perf.log" 2>&1 &
    perf=$!
  fi
  syscalls=
  if [ -n "$ppid" ] && [ "${CPU_SYSCALLS:-0}" = 1 ]; then
    # Every process of the proxy (nginx's workers are children of its master), for the whole measured run.
    events=raw_syscalls:sys_enter
    for call in recvfrom sendto readv writev read write poll epoll_wait futex; do events+=",syscalls:sys_enter_$call"; done
    events+=",context-switches"
    perf stat -e "$events" -p "$(family "$ppid" | paste -sd,)" -o "$tmp/syscalls-$target.txt" -- sleep "$DURATION" >/dev/null 2>&1 &
    syscalls=$!
  fi
  p0=0; u0=0; [ -n "$ppid" ] && { p0=$(ticks "$ppid"); u0=$(user_ticks "$ppid"); }
  s0=$(ticks "$sim_pid")
  t0=$(date +%s.%N)
  BENCH_AUTH=$TOKEN BENCH_MODEL=$MODEL wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 10s --latency -s "$here/chat.lua" "$url/v1/chat/completions" \
    >"$tmp/wrk-$target.txt" 2>&1 &
  wpid=$!
  w=0
  while kill -0 $wpid 2>/dev/null; do w=$(ticks $wpid 2>/dev/null || echo "$w"); sleep 0.5; done
  wait $wpid || true
  p1=0; u1=0; [ -n "$ppid" ] && { p1=$(ticks "$ppid"); u1=$(user_ticks "$ppid"); }
  s1=$(ticks "$sim_pid")
  line=$(grep '^BENCH ' "$tmp/wrk-$target.txt")
  req=$(sed 's/.* requests=\([0-9]*\).*/\1/' <<<"$line")
  alloc=
  if [ -n "$counters" ]; then
    wait "$counters" 2>/dev/null || true
    # The counters run from 2 s before wrk until 3 s after it (idle then): the sum of the per-second rates is the
    # allocation of the run.
    alloc=$(python3 - "$tmp/counters.csv" "$t0" "$DURATION" "$req" <<'EOF'
import csv, sys
path, req = sys.argv[1], int(sys.argv[4])
total = 0.0
with open(path) as f:
    for r in csv.reader(f):
        if len(r) >= 5 and 'total_allocated' in r[2]:
            try:
                total += float(r[4])
            except ValueError:
                pass
print(f"{total / max(req, 1) / 1024:.1f}")
EOF
)
  fi
  if [ -n "$perf" ]; then
    wait "$perf" || true
    perf report -i "$tmp/perf.data" --no-children --sort symbol --stdio 2>/dev/null | grep -v '^$' | head -200 >/tmp/atoll-perf-self.txt || true
    perf report -i "$tmp/perf.data" --children --sort symbol --stdio -g none 2>/dev/null | grep -v '^$' | head -300 >/tmp/atoll-perf-children.txt || true
  fi
  if [ -n "$syscalls" ]; then
    wait "$syscalls" || true
    awk -v n="$req" -v t="$target" '$2 ~ /^(raw_)?syscalls:/ { gsub(",", "", $1); sub(/.*sys_enter_?/, "", $2)
        if ($2 == "") { all = $1 } else { named += $1; if ($1 > 0) out = out sprintf(" %s=%.2f", $2, $1 / n) } }
      $2 == "context-switches" { gsub(",", "", $1); cs = $1 }
      END { printf "SYSCALLS target=%s per request: all=%.2f%s other=%.2f; context switches=%.2f\n", t, all / n, out, (all - named) / n, cs / n }' "$tmp/syscalls-$target.txt"
  fi
  if [ -n "$allocs" ]; then wait "$allocs" || true; echo "allocations of atoll during the run ($req requests):"; cat "$tmp/allocs.txt"; fi
  if [ -n "$trace" ]; then wait "$trace" || true; cp "$tmp"/atoll*.speedscope.json /tmp/ 2>/dev/null || true; fi
  awk -v n="$req" -v p=$((p1 - p0)) -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v w="$w" -v hz="$HZ" -v t="$target" -v a="${alloc:-n/a}" -v line="$line" 'BEGIN {
    printf "CPU target=%s requests=%d proxy_cpu_ms_per_req=%.4f (user %.4f, system %.4f) sim_cpu_ms_per_req=%.4f wrk_cpu_ms_per_req=%.4f alloc_kb_per_req=%s | %s\n",
      t, n, p * 1000 / hz / n, u * 1000 / hz / n, (p - u) * 1000 / hz / n, s * 1000 / hz / n, w * 1000 / hz / n, a, line }'
  if [ -n "$ppid" ]; then kill -TERM "$ppid" 2>/dev/null || true; wait "$ppid" 2>/dev/null || true; fi
done
