#!/usr/bin/env bash
# Installs prerequisites, builds once, then runs every test project; extra arguments go to each `dotnet test`
# (e.g. --filter). Fails if any project fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-prerequisites.sh
dotnet build OrleansSynth.sln -c Release --nologo

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# Normal verbosity lists every test with its time and shows what the deployment test measured (image sizes, build
# times). Each project writes its own log, printed whole when the project ends, so parallel output never interleaves.
run_project() {
  local project=$1 status=0
  dotnet test "tests/$project" -c Release --no-build --nologo --logger "console;verbosity=normal" "${@:2}" \
    >"$logs/$project.log" 2>&1 || status=$?
  echo "$status" >"$logs/$project.status"
  echo "=== $project (exit $status) ==="
  cat "$logs/$project.log"
}

# The cluster tests are the longest and spend much of their time waiting (silo start-ups, failure detection, reminder
# ticks), so they run beside the ML and deployment tests, which run one after the other.
started=$SECONDS
echo "running OrleansSynth.Cluster.Tests beside OrleansSynth.ML.Tests, then OrleansSynth.Deployment.Tests"
run_project OrleansSynth.Cluster.Tests "$@" &
cluster=$!
run_project OrleansSynth.ML.Tests "$@"
run_project OrleansSynth.Deployment.Tests "$@"
wait "$cluster" || true
echo "all test projects ended after $((SECONDS - started)) s"

failed=()
for status in "$logs"/*.status; do
  [ "$(cat "$status")" -eq 0 ] || failed+=("$(basename "$status" .status)")
done
if ((${#failed[@]})); then
  # A failure is printed where it happened, often thousands of lines above the end; repeat each one last so a log's
  # tail names what failed and why.
  echo
  echo "=== failed tests (repeated from above) ==="
  for project in "${failed[@]}"; do
    awk '/^  Failed / { on = 1; n = 0 } /^  Passed |^  Skipped |^\[xUnit/ { on = 0 } on && n++ < 40' "$logs/$project.log"
    grep -E "^(Failed!|Test Run Failed|Total tests|     (Passed|Failed):)|error (CS|MSB|NU)[0-9]+" "$logs/$project.log" || true
  done
  echo "failed: ${failed[*]}"
  exit 1
fi
