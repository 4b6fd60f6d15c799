#!/usr/bin/env bash
# Peak memory of a silo running an audit of a large dataset (issue 10): a fresh local silo process audits a folder of
# synthetic images against RECORDS training records (default 120,000) through the `synth` client; the silo's peak
# resident memory (VmHWM from /proc) is compared with BOUND_MIB. Exit 0 within the bound, 1 over it.
#   bench/scripts/audit-memory.sh [records] [synthetic images] [encoder steps] [bound MiB]
# Encoder steps change the time, not the memory (batches are fixed); the data sizes set the peak.
set -euo pipefail
cd "$(dirname "$0")/../.."
records=${1:-120000}
synthetic=${2:-2000}
encoder_steps=${3:-300}
bound_mib=${4:-3072}
work=${ORLEANSSYNTH_BENCH_WORK:-/tmp/orleanssynth-bench-audit-memory}

scripts/install-prerequisites.sh run >/dev/null
if [[ ! -f "$work/dataset/train-labels-idx1-ubyte" ]] || [[ "$(stat -c %s "$work/dataset/train-labels-idx1-ubyte")" != $((8 + records)) ]]; then
  rm -rf "$work"
  dotnet run -c Release --project bench/OrleansSynth.Benchmarks -- audit-memory-data "$records" "$synthetic" "$work"
fi
rm -rf "$work/silo"

. bench/scripts/local-silo.sh
start_local_silo "$work/silo"
pid=$(local_silo_field Pid)
peak() { awk '/VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$pid/status"; }

synth datasets register "$work/dataset"
echo "silo $pid after start and dataset registration: peak $(peak) MiB"
start=$(date +%s)
# Exit 1 from --wait means samples were flagged; the status says whether the audit itself completed.
synth audit submit --name memory --dataset "$work/dataset" --synthetic "$work/synthetic" --encoder-steps "$encoder_steps" --wait || true
seconds=$(( $(date +%s) - start ))
used=$(peak)
synth audit status memory --json > "$work/audit-status.json"
echo "audit of $synthetic synthetic images against $records training records ($encoder_steps encoder steps): ${seconds} s"
if ! grep -Eiq '"state": *"completed"' "$work/audit-status.json"; then echo "the audit did not complete (silo peak $used MiB):"; cat "$work/audit-status.json"; exit 2; fi
if (( used <= bound_mib )); then
  echo "silo peak resident memory: $used MiB, within the bound of $bound_mib MiB"
else
  echo "silo peak resident memory: $used MiB, OVER the bound of $bound_mib MiB"
  exit 1
fi
