#!/usr/bin/env bash
# Issue 14's four throughput ratios from one run, one benchmark after another (nothing else should run meanwhile):
# our trainer and sampler against the PyTorch reference (versus-pytorch.sh), training through a local silo against
# the bare trainer (cluster-vs-bare.sh, 300 steps of 64 per side and round), and the audit's scan against plain
# matrix products (the scan benchmark, 20,000 x 60,000). Each benchmark's whole output is kept in a log; the ratio
# lines are repeated together at the end.
#   bench/scripts/ratios.sh [threads] [cluster rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${1:-2}
cluster_rounds=${2:-3}
logs=${ORLEANSSYNTH_BENCH_LOGS:-/tmp/orleanssynth-bench-ratios}
mkdir -p "$logs"
start=$(date +%s)

bench/scripts/versus-pytorch.sh "$threads" 2>&1 | tee "$logs/versus-pytorch.log"
bench/scripts/cluster-vs-bare.sh 300 64 "$cluster_rounds" 2>&1 | tee "$logs/cluster-vs-bare.log"
# The scan uses libtorch's default threads (one per core), as an audit silo's compute slot does.
dotnet bench/OrleansSynth.Benchmarks/bin/Release/net10.0/OrleansSynth.Benchmarks.dll scan 2>&1 | tee "$logs/scan.log"

echo
echo "=== issue 14's ratios: commit $(git describe --always --dirty), $(nproc) cores, $(( ($(date +%s) - start) / 60 )) min, logs in $logs ==="
grep -h -E "ours / PyTorch:|through the cluster / bare trainer:|scan / plain products rate" \
  "$logs/versus-pytorch.log" "$logs/cluster-vs-bare.log" "$logs/scan.log"
