#!/usr/bin/env bash
# The first request after a quiet spell, over a WAN-like link: one sim behind wanrelay.py, a user-space relay
# that adds WARM_RTT ms of round trip (and a handshake's round trip to each new connection: netem does not exist on
# these machines), and two Atoll servers in front of it: one keeping a warm connection (--warm-connections 1, the
# default) and one opening connections on demand (--warm-connections 0). curl straight through the relay, on a new
# connection each time, is the reference. Each round sends one request to each, then waits WARM_GAP s (longer
# than the gateway's 4 s upstream idle timeout, so the on-demand server's connection is gone).
#   bench/gateway/warm.sh
# Env: WARM_ROUNDS (8), WARM_GAP (s, 6), WARM_RTT (ms, 100), WARM_TTFT (sim ms, 20).
# Prints one line per round, then the median of each column and what a warm connection saved.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
ROUNDS=${WARM_ROUNDS:-8}; GAP=${WARM_GAP:-6}; RTT=${WARM_RTT:-100}; TTFT=${WARM_TTFT:-20}
MODEL=bench-model
for tool in curl python3; do command -v $tool >/dev/null || { echo "warm.sh: $tool is needed" >&2; exit 1; }; done
"$root/atoll" --help >/dev/null
bin=$root/src/Atoll.Cli/bin/Release/net10.0
# shellcheck source=common.sh
. "$here/common.sh"
scratch warm

sim_port=$(freeport)
"$bin/atoll" sim --host 127.0.0.1 --port "$sim_port" --model "$MODEL" --instance far-1 --seed 1 --ttft "$TTFT" --itl 0 \
  --jitter 0 --prefill-per-token 0 --default-max-tokens 4 >"$tmp/sim.log" 2>&1 &
pids+=($!)
until_ok curl -fsS "http://127.0.0.1:$sim_port/health"
relay_port=$(freeport)
python3 "$here/wanrelay.py" "$relay_port" "$sim_port" "$RTT" >"$tmp/relay.log" 2>&1 &
pids+=($!)
sim=http://127.0.0.1:$relay_port
until_ok curl -fsS "$sim/health"

declare -A url token
for v in warm:1 cold:0; do
  name=${v%%:*}; port=$(freeport)
  "$bin/atoll" server --listen "http://127.0.0.1:$port" --data "$tmp/$name" --endpoint "$MODEL=$sim" --warm-connections "${v#*:}" \
    --provisioning false >"$tmp/$name.log" 2>&1 &
  pids+=($!)
  until_ok test -s "$tmp/$name/admin.token"
  until_ok curl -fsS "http://127.0.0.1:$port/healthz" # the token is written before the port listens
  token[$name]=$(cat "$tmp/$name/admin.token"); url[$name]=http://127.0.0.1:$port
done
body='{"model":"'$MODEL'","messages":[{"role":"user","content":"hello"}],"max_tokens":4}'
ask() { # ask URL TOKEN: seconds curl took for one chat request (fails on a non-200)
  curl -fsS -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $2" -H 'Content-Type: application/json' -d "$body" "$1/v1/chat/completions"
}
# The servers probe the sim before they route to it; then one request each makes the host "recently used".
for _ in $(seq 100); do ask "${url[warm]}" "${token[warm]}" >/dev/null 2>&1 && ask "${url[cold]}" "${token[cold]}" >/dev/null 2>&1 && break; sleep 0.2; done
echo "sim behind ${RTT} ms RTT (wanrelay.py), TTFT ${TTFT} ms; $ROUNDS rounds, ${GAP}s quiet before each; milliseconds per request"
printf '%6s %10s %10s %10s\n' round warm cold direct | tee "$tmp/rows.txt"
for r in $(seq "$ROUNDS"); do
  sleep "$GAP"
  w=$(ask "${url[warm]}" "${token[warm]}"); c=$(ask "${url[cold]}" "${token[cold]}"); d=$(ask "$sim" none)
  awk -v r="$r" -v w="$w" -v c="$c" -v d="$d" 'BEGIN { printf "%6d %10.1f %10.1f %10.1f\n", r, w * 1000, c * 1000, d * 1000 }' | tee -a "$tmp/rows.txt"
done
python3 - "$tmp/rows.txt" "$RTT" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]).read().splitlines()[1:]]
med = [statistics.median(float(r[i]) for r in rows) for i in (1, 2, 3)]
print(f"{'median':>6} {med[0]:10.1f} {med[1]:10.1f} {med[2]:10.1f}")
print(f"a warm connection saved {med[1] - med[0]:.1f} ms per request after a quiet spell (one round trip is {sys.argv[2]} ms)")
PY
