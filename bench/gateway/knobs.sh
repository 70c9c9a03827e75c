#!/usr/bin/env bash
# A/B of runtime knobs: Atoll servers that differ only in their environment, side by side with direct and nginx, in
# front of one sim (KNOBS_SIMS for more), measured in interleaved wrk rounds (noise on this shared machine lands on single runs, so
# compare the per-round differences, not one run).
#   bench/gateway/knobs.sh VARIANT...      VARIANT is direct, nginx, or NAME=ENV where ENV is "VAR=VALUE;VAR=VALUE"
#   (ARGS=... in ENV adds arguments to `atoll server` instead of setting a variable; BIN=DIR runs the atoll of another
#   build, e.g. a worktree of the base commit built with `dotnet build -c Release`, to A/B a code change; AGENTS=1
#   has each sim reported by an `atoll agent` of its own, as in run.sh, instead of `--endpoint`, the agents' CPU
#   counted as the proxy's; KEY=1 sends an API key with request, token and concurrency limits far above the load
#   instead of the admin token, so the key's limits are kept per request)
#   e.g. bench/gateway/knobs.sh direct "one=DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT=1" "two=DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT=2" nginx
#        bench/gateway/knobs.sh direct "front=" "kestrel=ARGS=--http1-front false" nginx
# Env: KNOBS_TTFT (sim ms, 50: section 1a's latency setting; 1 saturates the CPU as in 1b), KNOBS_ROUNDS (5),
#   KNOBS_DURATION (s per run, 15), KNOBS_WARM (s per variant, 60, as back-to-back 2 s runs: see warm_churn in
#   common.sh), KNOBS_CONNECTIONS (64), KNOBS_SIMS (sims behind every proxy, 1; direct needs 1), BENCH_PROMPT_BYTES
#   (0: chat.lua's one-line message; N: a system prompt of N bytes before it, to weigh the gateway's per-byte work).
# Prints one line per run (with the proxy's CPU ms and context switches per request, the sim's CPU ms per request,
# and for Atoll the methods the JIT compiled during the run), then per variant the medians and, when direct is a
# variant, the median of the per-round p99 differences to direct (what run.sh reports as "p99 over direct").
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
[ $# -gt 0 ] || { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
TTFT=${KNOBS_TTFT:-50}; SIMS=${KNOBS_SIMS:-1}; ROUNDS=${KNOBS_ROUNDS:-5}; DURATION=${KNOBS_DURATION:-15}; WARM=${KNOBS_WARM:-60}; CONNS=${KNOBS_CONNECTIONS:-64}
MODEL=bench-model
# shellcheck source=common.sh
. "$here/common.sh"
debian_packages wrk nginx
for tool in wrk nginx python3; do command -v $tool >/dev/null || { echo "knobs.sh: $tool is needed" >&2; exit 1; }; done
"$root/atoll" --help >/dev/null
bin=$root/src/Atoll.Cli/bin/Release/net10.0
scratch knobs

sim_ports=(); sim_pids=()
for i in $(seq "$SIMS"); do
  port=$(freeport)
  "$bin/atoll" sim --host 127.0.0.1 --port "$port" --model "$MODEL" --instance "knobs-$i" --seed "$i" --ttft "$TTFT" --itl 0 --jitter 0 \
    --prefill-per-token 0 --max-num-seqs 256 --max-waiting 1024 --default-max-tokens 16 >"$tmp/sim-$i.log" 2>&1 &
  pids+=($!); sim_pids+=($!); sim_ports+=("$port")
done
for port in "${sim_ports[@]}"; do until_ok curl -fsS "http://127.0.0.1:$port/health"; done
sim_port=${sim_ports[0]}
endpoints=(); for port in "${sim_ports[@]}"; do endpoints+=(--endpoint "$MODEL=http://127.0.0.1:$port"); done

declare -A url token proc jit
names=()
for v in "$@"; do
  name=${v%%=*}
  names+=("$name")
  token[$name]=none; proc[$name]=; jit[$name]=
  case $v in
    direct)
      [ "$SIMS" = 1 ] || { echo "knobs.sh: direct needs KNOBS_SIMS=1 (it goes to one sim)" >&2; exit 2; }
      url[$name]=http://127.0.0.1:$sim_port ;;
    nginx)
      port=$(freeport)
      start_nginx "$tmp/ng" "$port" "${sim_ports[@]}"
      pids+=($!); proc[$name]=$!; url[$name]=http://127.0.0.1:$port ;;
    *=*)
      IFS=';' read -r -a settings <<<"${v#*=}"
      envs=(); args=(); exe=$bin/atoll; agents=0; key=0
      for e in "${settings[@]}"; do
        case $e in ARGS=*) read -r -a args <<<"${e#ARGS=}" ;; BIN=*) exe=${e#BIN=}/atoll ;; AGENTS=1) agents=1 ;; KEY=1) key=1 ;; *) envs+=("$e") ;; esac
      done
      static=("${endpoints[@]}"); [ "$agents" = 1 ] && static=()
      [ -x "$exe" ] || { echo "knobs.sh: no atoll at $exe (variant $name)" >&2; exit 2; }
      port=$(freeport)
      jit[$name]=$tmp/$name.jit
      env DOTNET_JitStdOutFile="${jit[$name]}" DOTNET_JitDisasmSummary=1 "${envs[@]}" "$exe" server --listen "http://127.0.0.1:$port" --data "$tmp/$name" \
        "${static[@]}" --endpoint-capacity 256 "${args[@]}" >"$tmp/$name.log" 2>&1 &
      pids+=($!); proc[$name]=$!
      until_ok test -s "$tmp/$name/admin.token"
      until_ok curl -fsS "http://127.0.0.1:$port/healthz" # the token is written before the port listens
      token[$name]=$(cat "$tmp/$name/admin.token"); url[$name]=http://127.0.0.1:$port
      if [ "$agents" = 1 ]; then
        # each sim reported by an `atoll agent` of its own, as run.sh's Atoll does; their CPU counts as the proxy's
        start_agents "${url[$name]}" "${token[$name]}" "$MODEL" "$tmp/$name" "${sim_ports[@]}" -- "$exe"
        pids+=("${AGENT_PIDS[@]}"); proc[$name]+=" ${AGENT_PIDS[*]}"
      fi
      until_ok atoll_ready "${url[$name]}" "${token[$name]}" "$MODEL" "$SIMS"
      if [ "$key" = 1 ]; then
        # an API key with limits far above the load, as an application would send: the key's buckets and count are kept
        token[$name]=$("$exe" keys create --quiet --name "bench-$name" --rpm 1000000000 --tpm 2000000000 --max-concurrent 100000 \
          --server "${url[$name]}" --token "${token[$name]}")
      fi ;;
    *) echo "knobs.sh: unknown variant '$v' (direct, nginx or NAME=ENV)" >&2; exit 2 ;;
  esac
done

run() { # run NAME SECONDS
  BENCH_AUTH=${token[$1]} BENCH_MODEL=$MODEL wrk -t2 -c"$CONNS" -d"$2s" --timeout 10s --latency -s "$here/chat.lua" "${url[$1]}/v1/chat/completions"
}
for name in "${names[@]}"; do warm_churn "$WARM" run "$name"; done
echo "sim --ttft $TTFT, wrk -t2 -c$CONNS, $ROUNDS rounds of ${DURATION}s after ${WARM}s of warm-up each (runs of ${WARM_PIECE:-2}s)"
for r in $(seq "$ROUNDS"); do
  for name in "${names[@]}"; do
    t0=0; s0=0; [ -n "${proc[$name]}" ] && { t0=$(ticks ${proc[$name]}); s0=$(switches ${proc[$name]}); }
    b0=$(ticks "${sim_pids[@]}"); j0=$(jit_count "${jit[$name]}")
    line=$(run "$name" "$DURATION" | grep '^BENCH ') || { echo "wrk against $name printed no summary" >&2; exit 1; }
    cpu=-1; sw=-1; req=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$line")
    if [ -n "${proc[$name]}" ]; then
      t1=$(ticks ${proc[$name]}); s1=$(switches ${proc[$name]})
      cpu=$(awk -v a="$t0" -v b="$t1" -v n="$req" -v hz="$HZ" 'BEGIN { printf "%.4f", (b - a) * 1000 / hz / n }')
      sw=$(awk -v a="$s0" -v b="$s1" -v n="$req" 'BEGIN { printf "%.3f", (b - a) / n }')
    fi
    sim=$(awk -v a="$b0" -v b="$(ticks "${sim_pids[@]}")" -v n="$req" -v hz="$HZ" 'BEGIN { printf "%.4f", (b - a) * 1000 / hz / n }')
    jitted=-; [ -n "${jit[$name]}" ] && jitted=$(($(jit_count "${jit[$name]}") - j0))
    echo "round=$r variant=$name cpu_ms_per_req=$cpu switches_per_req=$sw sim_cpu_ms_per_req=$sim jit_methods=$jitted ${line#BENCH }" | tee -a "$tmp/runs.txt"
  done
done
python3 - "$tmp/runs.txt" "${names[@]}" <<'PY'
import statistics, sys
rows = [dict(kv.split("=", 1) for kv in line.split()) for line in open(sys.argv[1])]
names = sys.argv[2:]
def get(r, v, k): return next(float(x[k]) for x in rows if x["round"] == r and x["variant"] == v)
rounds = sorted({x["round"] for x in rows}, key=int)
for v in names:
    mine = [x for x in rows if x["variant"] == v]
    med = lambda k: statistics.median(float(x[k]) for x in mine)
    line = f"{v:>10}: rps {med('rps'):8.1f}  p50 {med('p50_ms'):7.3f} ms  p99 {med('p99_ms'):7.3f} ms  errors {sum(int(x['status']) + int(x['timeout']) for x in mine)}"
    if med("cpu_ms_per_req") >= 0:
        line += f"  cpu {med('cpu_ms_per_req'):.4f} ms/req  switches {med('switches_per_req'):.3f}/req"
    line += f"  sim cpu {med('sim_cpu_ms_per_req'):.4f} ms/req"
    if mine[0]["jit_methods"] != "-":
        line += f"  jit {'/'.join(x['jit_methods'] for x in mine)} methods"
    if "nginx" in names and v != "nginx":
        ratios = [get(r, v, "rps") / get(r, "nginx", "rps") for r in rounds]
        line += f"  rps / nginx {statistics.median(ratios):.3f} (rounds: {' '.join(f'{x:.3f}' for x in ratios)})"
    if "direct" in names and v != "direct":
        diffs = [get(r, v, "p99_ms") - get(r, "direct", "p99_ms") for r in rounds]
        line += f"  p99 over direct {statistics.median(diffs):+.2f} ms (rounds: {' '.join(f'{d:+.2f}' for d in diffs)})"
    print(line)
PY
