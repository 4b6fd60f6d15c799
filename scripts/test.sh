#!/usr/bin/env bash
# Installs prerequisites, checks the formatting, then builds and runs every test project.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-prerequisites.sh test
scripts/check-format.sh
# The cluster tests run several libtorch processes at once on few cores (the test host and its silo processes); idle
# OpenMP threads that spin for their next task take the cores the other processes need (cluster tests 15 min with
# this, 18.5 without, on 2 cores).
export OMP_WAIT_POLICY=PASSIVE
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Normal verbosity lists every test with its time and shows what the deployment test measured (image sizes, build times).
status=0
dotnet test OrleansSynth.sln -c Release --nologo --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log" || status=$?
# A failure is printed where it happened, often thousands of lines above the end; repeat each one last so a log's
# tail names what failed and why.
if [ "$status" -ne 0 ]; then
    echo
    echo "=== failed tests (repeated from above) ==="
    awk '/^  Failed / { on = 1; n = 0 } /^  Passed |^  Skipped |^\[xUnit/ { on = 0 } on && n++ < 40' "$log"
    grep -E "^(Failed!|Test Run Failed|Total tests|     (Passed|Failed):)|error (CS|MSB|NU)[0-9]+" "$log" || true
fi
exit "$status"
