# Helpers shared by the gateway bench scripts (run.sh, cpu.sh, knobs.sh, rawproxy.sh, warm.sh); sourced, not run.

# debian_packages PKG...: installs those of the Debian packages that are missing (as run.sh does; needs root and
# the package registry), so a fresh machine can run any of the scripts
debian_packages() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null; } ||
    { echo "could not install ${missing[*]}: run apt-get install ${missing[*]} as root" >&2; exit 1; }
}

# freeport: a TCP port on 127.0.0.1 that nothing listened on a moment ago
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# until_ok COMMAND...: retries COMMAND for up to 30 s, then exits the script saying what never became ready
until_ok() { for _ in $(seq 300); do if "$@" >/dev/null 2>&1; then return 0; fi; sleep 0.1; done; echo "not ready: $*" >&2; exit 1; }

# family PID...: the processes and their live descendants, one pid per line
family() {
  local all=("$@") i=0 c
  while [ $i -lt ${#all[@]} ]; do
    for c in $(cat "/proc/${all[$i]}/task/"*/children 2>/dev/null); do all+=("$c"); done
    i=$((i + 1))
  done
  printf '%s\n' "${all[@]}"
}

# ticks PID...: utime+stime of the processes and their live descendants, in clock ticks (HZ per second)
ticks() { proc_ticks all "$@"; }
# user_ticks PID...: the same, utime only (the rest of ticks is time in the kernel: system calls, the network stack)
user_ticks() { proc_ticks user "$@"; }
proc_ticks() { # proc_ticks all|user PID...
  local which=$1 sum=0 p line
  shift
  for p in $(family "$@"); do
    line=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    line=${line##*) }
    read -r -a f <<<"$line"
    if [ "$which" = user ]; then sum=$((sum + f[11])); else sum=$((sum + f[11] + f[12])); fi
  done
  echo $sum
}
HZ=$(getconf CLK_TCK)

# switches PID...: context switches (voluntary + involuntary) of every thread of the processes and their live
# descendants so far; a proxy that hands work between threads pays for it in these
switches() {
  local p
  # a thread that ends between the glob and the read must not fail the pipeline (and with it a set -e script)
  for p in $(family "$@"); do cat "/proc/$p/task/"*/status 2>/dev/null || true; done | awk '/ctxt_switches/ { n += $2 } END { print n + 0 }'
}

# start_nginx DIR PORT SIM_PORT...: nginx in the foreground of a background job (its pid in $!), least_conn over the
# sims with upstream keep-alive, as bench/README.md describes; config, pid and logs under DIR
start_nginx() {
  local dir=$1 port=$2 servers="" sim
  shift 2
  for sim in "$@"; do servers+="server 127.0.0.1:$sim; "; done
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<NGINX
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/body; proxy_temp_path $dir/proxy; fastcgi_temp_path $dir/fcgi;
  uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
  upstream sims { least_conn; ${servers}keepalive 128; }
  server {
    listen 127.0.0.1:$port;
    location / { proxy_pass http://sims; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
  nginx -c "$dir/nginx.conf" -g 'daemon off;' >"$dir/out.log" 2>&1 &
}

# scratch NAME: a fresh temporary directory in $tmp and an empty $pids; at exit every process in $pids gets SIGTERM
# and the directory is removed
scratch() {
  tmp=$(mktemp -d "/tmp/atoll-$1.XXXXXX")
  pids=()
  trap scratch_cleanup EXIT
}
scratch_cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}

# warm_churn SECONDS COMMAND...: the warm-up as back-to-back runs of WARM_PIECE s (2), `COMMAND... PIECE` each, so
# every run opens its connections anew. A .NET server's per-connection code (Kestrel's accept and connection set-up,
# the socket's first operations, the close) runs once per connection; one long warm-up runs it only -c times, and
# the JIT then still compiles hundreds of those methods during the measured runs (measured 2026-12-01: 360–610
# methods in each of the first three 10 s runs after one 30 s warm-up, about 10 % of the proxy's CPU in perf; none
# after 20 runs of 3 s). A server that has run for a while has compiled them long ago.
warm_churn() {
  local total=$1 piece=${WARM_PIECE:-2} spent=0
  shift
  while [ "$spent" -lt "$total" ]; do
    "$@" "$piece" >/dev/null 2>&1 || true
    spent=$((spent + piece))
  done
}

# jit_count FILE: methods the JIT has compiled so far in a .NET process started with DOTNET_JitStdOutFile=FILE and
# DOTNET_JitDisasmSummary=1 (one line per compiled method); 0 when there is no such file
jit_count() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# atoll_ready URL TOKEN MODEL COUNT: the Atoll server at URL answers a chat for MODEL and its probes found COUNT
# endpoints healthy (the gateway's series exist after its first request, hence the chat first)
atoll_ready() {
  curl -fsS -o /dev/null -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
    -d "{\"model\":\"$3\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":4}" "$1/v1/chat/completions" &&
    [ "$(curl -fsS "$1/metrics" | grep -c '^atoll_gateway_endpoint_up{.*} 1$')" -ge "$4" ]
}

# start_agents URL TOKEN MODEL STATE PORT... -- ATOLL...: one `atoll agent` per sim port (nodes node1, node2, ...,
# state in STATE-agentN, logs in STATE-agentN.log) joined to the Atoll server at URL with a join token made with its
# admin TOKEN; ATOLL... runs atoll (e.g. `taskset -c 1 /path/atoll`). Their pids in AGENT_PIDS.
start_agents() {
  local url=$1 token=$2 model=$3 state=$4 ports=() p i=0 join
  shift 4
  while [ "$1" != -- ]; do ports+=("$1"); shift; done
  shift
  join=$(ATOLL_SERVER=$url ATOLL_TOKEN=$token "$@" tokens create --uses "${#ports[@]}" --ttl 1h -q)
  AGENT_PIDS=()
  for p in "${ports[@]}"; do
    i=$((i + 1))
    "$@" agent --server "$url" --join-token "$join" --name "node$i" --gpus 0 --model "$model=http://127.0.0.1:$p" \
      --state "$state-agent$i" >"$state-agent$i.log" 2>&1 &
    AGENT_PIDS+=($!)
  done
}
