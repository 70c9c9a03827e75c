#!/usr/bin/env bash
# What Kestrel costs the gateway: the same wrk load, in interleaved rounds, against one sim directly, through Atoll,
# through rawproxy (bench/gateway/rawproxy: the least a .NET proxy does per forwarded request) in its seven forms
# (rawproxy: raw sockets, no Kestrel; watch: raw sockets with a receive kept pending while a request is served, to
# notice a client that leaves; conn: a Kestrel connection middleware; http: a Kestrel app; epoll: raw sockets on an
# epoll loop of its own per core, without .NET's socket layer; econn: conn on a Kestrel transport of its own over such
# loops; efull: econn with the model-server connections on those loops too) and through nginx.
# Prints requests/s, p50, p99 and the proxy's CPU time per request for every run.
#   bench/gateway/rawproxy.sh
# Env: RAW_TTFT (sim ms, 5: CPU-saturated as section 1b; 50 is section 1a's latency setting), RAW_ROUNDS (3),
#   RAW_DURATION (s per run, 10), RAW_WARM (s per target, 60, as back-to-back 2 s runs: see warm_churn in common.sh),
#   RAW_TARGETS (default "direct atoll rawproxy watch conn http econn efull epoll nginx").
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
TTFT=${RAW_TTFT:-5}; ROUNDS=${RAW_ROUNDS:-3}; DURATION=${RAW_DURATION:-10}; WARM=${RAW_WARM:-60}
# shellcheck source=common.sh
. "$here/common.sh"
debian_packages wrk nginx
for tool in wrk nginx python3 dotnet; do command -v $tool >/dev/null || { echo "rawproxy.sh: $tool is needed" >&2; exit 1; }; done
"$root/atoll" --help >/dev/null
bin=$root/src/Atoll.Cli/bin/Release/net10.0
scratch rawproxy
dotnet build "$here/rawproxy/rawproxy.csproj" -c Release -nologo -v quiet -o "$tmp/rawproxy" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; exit 1; }

sim_port=$(freeport); atoll_port=$(freeport); raw_port=$(freeport); nginx_port=$(freeport)
"$bin/atoll" sim --host 127.0.0.1 --port "$sim_port" --model bench-model --instance raw-1 --seed 1 --ttft "$TTFT" --itl 0 --jitter 0 \
  --prefill-per-token 0 --max-num-seqs 256 --max-waiting 1024 --default-max-tokens 16 >"$tmp/sim.log" 2>&1 &
pids+=($!)
until_ok curl -fsS "http://127.0.0.1:$sim_port/health"
"$bin/atoll" server --listen "http://127.0.0.1:$atoll_port" --data "$tmp/atoll" --endpoint "bench-model=http://127.0.0.1:$sim_port" \
  --endpoint-capacity 256 >"$tmp/atoll.log" 2>&1 &
atoll_pid=$!; pids+=($atoll_pid)
DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 "$tmp/rawproxy/rawproxy" "$raw_port" "$sim_port" >"$tmp/rawproxy.log" 2>&1 &
raw_pid=$!; pids+=($raw_pid)
watch_port=$(freeport)
RAW_MODE=watch DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 "$tmp/rawproxy/rawproxy" "$watch_port" "$sim_port" >"$tmp/watch.log" 2>&1 &
watch_pid=$!; pids+=($watch_pid)
epoll_port=$(freeport)
RAW_MODE=epoll "$tmp/rawproxy/rawproxy" "$epoll_port" "$sim_port" >"$tmp/epoll.log" 2>&1 &
epoll_pid=$!; pids+=($epoll_pid)
econn_port=$(freeport)
RAW_MODE=econn DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 "$tmp/rawproxy/rawproxy" "$econn_port" "$sim_port" >"$tmp/econn.log" 2>&1 &
econn_pid=$!; pids+=($econn_pid)
efull_port=$(freeport)
RAW_MODE=efull DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 "$tmp/rawproxy/rawproxy" "$efull_port" "$sim_port" >"$tmp/efull.log" 2>&1 &
efull_pid=$!; pids+=($efull_pid)
conn_port=$(freeport); http_port=$(freeport)
RAW_MODE=conn DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 "$tmp/rawproxy/rawproxy" "$conn_port" "$sim_port" >"$tmp/conn.log" 2>&1 &
conn_pid=$!; pids+=($conn_pid)
RAW_MODE=http DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 "$tmp/rawproxy/rawproxy" "$http_port" "$sim_port" >"$tmp/http.log" 2>&1 &
http_pid=$!; pids+=($http_pid)
start_nginx "$tmp/ng" "$nginx_port" "$sim_port"
nginx_pid=$!; pids+=($nginx_pid)
until_ok test -s "$tmp/atoll/admin.token"
until_ok curl -fsS "http://127.0.0.1:$atoll_port/healthz" # the token is written before the port listens
token=$(cat "$tmp/atoll/admin.token")
until_ok curl -fsS "http://127.0.0.1:$nginx_port/health"

declare -A url auth procs
url[direct]=http://127.0.0.1:$sim_port; auth[direct]=none; procs[direct]=
url[atoll]=http://127.0.0.1:$atoll_port; auth[atoll]=$token; procs[atoll]=$atoll_pid
url[rawproxy]=http://127.0.0.1:$raw_port; auth[rawproxy]=none; procs[rawproxy]=$raw_pid
url[nginx]=http://127.0.0.1:$nginx_port; auth[nginx]=none
procs[nginx]=$nginx_pid
url[watch]=http://127.0.0.1:$watch_port; auth[watch]=none; procs[watch]=$watch_pid
url[conn]=http://127.0.0.1:$conn_port; auth[conn]=none; procs[conn]=$conn_pid
url[http]=http://127.0.0.1:$http_port; auth[http]=none; procs[http]=$http_pid
url[epoll]=http://127.0.0.1:$epoll_port; auth[epoll]=none; procs[epoll]=$epoll_pid
url[econn]=http://127.0.0.1:$econn_port; auth[econn]=none; procs[econn]=$econn_pid
url[efull]=http://127.0.0.1:$efull_port; auth[efull]=none; procs[efull]=$efull_pid
targets=(${RAW_TARGETS:-direct atoll rawproxy watch conn http econn efull epoll nginx})
run() { BENCH_AUTH=${auth[$1]} BENCH_MODEL=bench-model wrk -t2 -c64 -d"$2s" --timeout 10s --latency -s "$here/chat.lua" "${url[$1]}/v1/chat/completions"; }
for k in "${targets[@]}"; do warm_churn "$WARM" run "$k"; done
echo "sim --ttft $TTFT, wrk -t2 -c64, $ROUNDS rounds of ${DURATION}s after ${WARM}s of warm-up each (runs of ${WARM_PIECE:-2}s)"
for r in $(seq "$ROUNDS"); do
  for k in "${targets[@]}"; do
    t0=0; [ -n "${procs[$k]}" ] && t0=$(ticks "${procs[$k]}")
    line=$(run "$k" "$DURATION" | grep '^BENCH ') || { echo "wrk against $k printed no summary" >&2; exit 1; }
    t1=0; [ -n "${procs[$k]}" ] && t1=$(ticks "${procs[$k]}")
    req=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$line")
    cpu=$(awk -v a="$t0" -v b="$t1" -v n="$req" -v hz="$HZ" 'BEGIN { printf "%.4f", (b - a) * 1000 / hz / n }')
    echo "round=$r target=$k proxy_cpu_ms_per_req=$([ -n "${procs[$k]}" ] && echo "$cpu" || echo "—") ${line#BENCH }"
  done
done
