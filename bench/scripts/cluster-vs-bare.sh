#!/usr/bin/env bash
# Diffusion training through the cluster against the bare trainer (issue 14, goal >= 0.97): a fresh local silo process
# runs training run grains while the benchmark process waits, then the benchmark trains the same model itself while the
# silo idles. Builds what it needs and runs the built benchmark directly (not under `dotnet run`, whose build
# processes would share the cores).
#   bench/scripts/cluster-vs-bare.sh [steps] [batch] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${ORLEANSSYNTH_BENCH_WORK:-/tmp/orleanssynth-bench-cluster-vs-bare}

scripts/install-prerequisites.sh run >/dev/null
dotnet build bench/OrleansSynth.Benchmarks -c Release --nologo -v quiet
rm -rf "$work"
. bench/scripts/local-silo.sh
start_local_silo "$work"
dotnet bench/OrleansSynth.Benchmarks/bin/Release/net10.0/OrleansSynth.Benchmarks.dll cluster-vs-bare "$(local_silo_field GatewayPort)" "$@"
