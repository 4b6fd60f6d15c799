#!/usr/bin/env bash
# The main job: train a diffusion model on Fashion-MNIST and write a grid of samples to out/fashion-mnist/.
# Extra arguments go to `synth train` (see `synth train --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-prerequisites.sh
dotnet build src/OrleansSynth.Cli -c Release --nologo -v quiet
exec src/OrleansSynth.Cli/bin/Release/net10.0/synth train --dataset fashion-mnist --out out/fashion-mnist --steps 1200 "$@"
