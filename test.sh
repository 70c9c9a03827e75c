#!/usr/bin/env bash
# Installs what the tests need (Debian packages), starts throwaway services under a temp dir on private
# ports, builds with warnings as errors, runs every test, stops what it started. Non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

say() { printf '\n== %s\n' "$*"; }

# --- 1. Packages ---------------------------------------------------------------------------------
apt_packages=(postgresql procps util-linux jq openssh-server openssh-client cloud-init shellcheck)
missing=()
for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test.sh: missing Debian packages: ${missing[*]} (run as root, or apt-get install them)" >&2
    exit 1
  fi
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "test.sh: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }
# s3rver (the S3 server the object-store tests use) comes from npm; Node.js and npm from Debian when absent.
if ! command -v npm >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "test.sh: npm is required (apt-get install nodejs npm)" >&2; exit 1; }
  say "installing nodejs npm"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

# --- 2. Throwaway services -----------------------------------------------------------------------
tmp=$(mktemp -d /tmp/atoll-test.XXXXXX)
chmod 755 "$tmp"
cleanup() {
  scripts/test-services.sh stop "$tmp" || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  local p
  for p in $(seq "$1" $(($1 + 200))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "test.sh: no free port near $1" >&2; exit 1
}
say "starting PostgreSQL and s3rver under $tmp (and installing the OpenAI Node SDK)"
# Captured first: a failure to start (or to install from npm) stops here instead of showing later as failed tests.
services=$(ATOLL_TEST_PG_PORT=$(free_port 55432) ATOLL_TEST_S3_PORT=$(free_port 54568) scripts/test-services.sh start "$tmp")
eval "$services"
export ATOLL_TEST_POSTGRES ATOLL_TEST_S3 ATOLL_TEST_OPENAI_NODE

# --- 3. Build and test ---------------------------------------------------------------------------
say "building (Release, warnings are errors)"
dotnet build Atoll.slnx -c Release -nologo -v quiet -clp:ErrorsOnly

say "running tests"
status=0
dotnet test Atoll.slnx -c Release --no-build --nologo 2>&1 | tee "$tmp/test.log" || status=$?

# --- 4. The README's own commands, as a user types them --------------------------------------------
if [ $status -eq 0 ]; then
  say "smoke: ./atoll up --nodes 3, then ./atoll nodes -o json"
  scripts/smoke-up.sh "$tmp/smoke" "$(free_port 17070)" || status=$?
fi

# One plain closing line: totals over all test assemblies.
awk '/(Passed|Failed)!/ {
       for (i = 1; i <= NF; i++) {
         if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1)
       }
     }
     END { printf "\nTests: %d passed, %d failed, %d skipped\n", p, f, s }' <(tr -d ',' <"$tmp/test.log")
if [ $status -ne 0 ]; then
  grep -q "Test Run Aborted" "$tmp/test.log" && echo "test.sh: a test run was aborted (see above)"
  echo "test.sh: FAILED (exit $status)"
fi
exit $status
