#!/usr/bin/env bash
# The server's real provisioning pass (FleetReconciler) over 2,000 claims on a real store: a steady-state pass and
# churn passes where 5 % of the instances vanished and are replaced. Target: a pass over 2,000 claims < 200 ms.
# Builds bench/fleet/ReconcileBench in Release (not in Atoll.slnx). Arguments go to the program:
#   --claims N (2000)  --pools N (20)  --passes N (20)  --store postgres://... (default: SQLite in a temp dir)
# Appends the table to bench/results/fleet-reconcile-<UTC date>.md (BENCH_OUT overrides).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${BENCH_OUT:-$root/bench/results/fleet-reconcile-$(date -u +%Y-%m-%d).md}
dotnet build "$here/ReconcileBench/ReconcileBench.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly >&2
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
set +e
table=$(dotnet "$here/ReconcileBench/bin/Release/net10.0/ReconcileBench.dll" "$@" 2>/dev/null)
rc=$?
set -e
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
{
  echo "## $(date -u '+%Y-%m-%d %H:%M') UTC — \`bench/fleet/reconcile.sh${*:+ $*}\`"
  echo
  echo "Atoll $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown); load average before: $load_before, after: $load_after."
  echo
  echo "$table"
  echo
} | tee -a "$out"
exit $rc
