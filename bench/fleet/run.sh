#!/usr/bin/env bash
# Fleet decision benchmark: how long Atoll takes to choose an offer from a 20,000-offer catalog (OfferSelector.Select,
# target < 5 ms) and to make one reconcile decision pass over 2,000 claims in 20 pools (PoolScaler.Plan and
# ClaimTimeouts.Expired for every claim, then one selection per pool that is short of nodes; target < 200 ms).
# Builds bench/fleet/FleetBench in Release (it is not in Atoll.slnx) and runs it in-process: no server, no network.
# Prints the table and writes it to bench/results/fleet-<UTC date>.md (BENCH_OUT overrides).
# Arguments go to the program: --offers N (20000), --decisions N (200), --claims N (2000), --pools N (20), --passes N (50).
# Exits non-zero when a target is missed (judged on wall-clock p99; the CPU-time columns show what queueing for a core added).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
DATE=$(date -u +%Y-%m-%d)
OUT=${BENCH_OUT:-$root/bench/results/fleet-$DATE.md}
COMMAND="bench/fleet/run.sh${*:+ $*}"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

log "building bench/fleet/FleetBench (Release)"
dotnet build "$here/FleetBench/FleetBench.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly >&2

rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$root" status --porcelain -- src/Atoll.Core bench/fleet 2>/dev/null)" ]; then
  rev="$rev + uncommitted changes in src/Atoll.Core or bench/fleet"
fi
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "running (load average before: $load_before)"
set +e
table=$(dotnet "$here/FleetBench/bin/Release/net10.0/FleetBench.dll" "$@")
rc=$?
set -e
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
[ -n "$table" ] || { log "FAILED: the benchmark printed nothing (exit $rc)"; exit 1; }

mkdir -p "$(dirname "$OUT")"
{
  echo "# Fleet decision benchmark — $DATE"
  echo
  echo "Command (from the repository root):"
  echo
  echo '```'
  echo "$COMMAND"
  echo '```'
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))," \
    "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); run at $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Atoll: $rev. .NET SDK $(dotnet --version)."
  echo "Load average (1/5/15 min) before the run: $load_before; after: $load_after (other work on the machine counts here)."
  echo
  echo "$table"
  echo
  echo "Wall-clock times include waiting for a core; \"CPU\" columns are the benchmark thread's own CPU time"
  echo "(CLOCK_THREAD_CPUTIME_ID) for the same operations. Allocations are per decision or per pass, measured on the"
  echo "benchmark thread. Method and what each row does: bench/fleet/README.md."
} > "$OUT"
cat "$OUT"
log "wrote $OUT"
exit $rc
