#!/usr/bin/env bash
# Our diffusion training step and DDIM sampler against the PyTorch reference of the same network (issue 14).
# Installs Debian's python3-torch when it is missing, builds the benchmark and runs it directly (not under
# `dotnet run`, whose build processes would share the cores). Arguments go to the benchmark:
#   bench/scripts/versus-pytorch.sh [threads] [timed steps] [batch] [samples] [ddim steps] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/install-prerequisites.sh bench
dotnet build bench/OrleansSynth.Benchmarks -c Release --nologo -v quiet
exec dotnet bench/OrleansSynth.Benchmarks/bin/Release/net10.0/OrleansSynth.Benchmarks.dll versus-pytorch "$@"
