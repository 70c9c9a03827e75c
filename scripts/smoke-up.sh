#!/usr/bin/env bash
# The README's quick start, checked as a user would run it:
#   ./atoll up --data DIR --nodes 3   then   . DIR/env; ./atoll nodes -o json
# Expects three Ready nodes with GPUs from provider "local", then SIGTERM leaves no atoll process behind.
set -euo pipefail
dir=${1:?usage: smoke-up.sh DIR PORT}
port=${2:?usage: smoke-up.sh DIR PORT}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
mkdir -p "$dir"
fail() { echo "smoke: FAIL: $*" >&2; cat "$dir/up.out" >&2 || true; exit 1; }

./atoll up --data "$dir/data" --nodes 3 --listen "http://127.0.0.1:$port" --heartbeat-interval 2s >"$dir/up.out" 2>&1 &
up=$!
trap 'kill -KILL $up 2>/dev/null || true' EXIT

ready=0
for _ in $(seq 1 120); do
  if [ -f "$dir/data/env" ]; then
    # shellcheck disable=SC1091
    . "$dir/data/env"
    if json=$(./atoll nodes -o json 2>/dev/null) &&
       [ "$(jq '[.items[] | select(.provider == "local" and (.gpu.gpus | length) > 0
                 and any(.conditions[]; .type == "Ready" and .status == "True"))] | length' <<<"$json")" = 3 ]; then
      ready=1
      break
    fi
  fi
  kill -0 $up 2>/dev/null || fail "atoll up exited early"
  sleep 0.5
done
[ $ready = 1 ] || fail "three Ready nodes with GPUs did not appear within 60s: $(./atoll nodes 2>&1 || true)"
echo "smoke: 3 nodes Ready: $(jq -r '[.items[] | "\(.name)=\(.gpu.gpus | length)x\(.gpu.gpus[0].name)"] | join(", ")' <<<"$json")"

# The gateway answers through the simulators the nodes serve, as the README shows.
answered=0
for _ in $(seq 1 40); do
  if answer=$(./atoll chat --model llama-sim --max-tokens 8 "hello" 2>&1) && [ -n "$answer" ]; then answered=1; break; fi
  sleep 0.5
done
[ $answered = 1 ] || fail "atoll chat got no answer: $answer"
echo "smoke: atoll chat answered: $answer"

# Batch inference through the nodes' workers, as the README shows.
batch=$(timeout 180 ./atoll batch create -f examples/batch.jsonl --endpoint /v1/chat/completions --wait 2>"$dir/batch.err") \
  || fail "atoll batch create --wait failed: $(cat "$dir/batch.err")"
./atoll batch results "$batch" -o "$dir/out.jsonl" --errors "$dir/errors.jsonl" >/dev/null || fail "atoll batch results failed"
want=$(wc -l <examples/batch.jsonl)
got=$(jq -r .custom_id "$dir/out.jsonl" | sort -u | wc -l)
[ "$got" = "$want" ] || fail "batch output has $got distinct custom_ids, expected $want"
echo "smoke: batch $batch completed with $got results"

kill -TERM $up
for _ in $(seq 1 40); do kill -0 $up 2>/dev/null || break; sleep 0.25; done
kill -0 $up 2>/dev/null && fail "atoll up still running 10s after SIGTERM"
sleep 0.5
left=$(pgrep -f -- "--data $dir/data|--state $dir/data|--exit-with-parent $up( |$)" || true)
[ -z "$left" ] || fail "processes left after SIGTERM: $(ps -o pid,args -p "${left//$'\n'/,}")"
echo "smoke: SIGTERM stopped atoll up and all its children"
