#!/usr/bin/env bash
# The main job: the whole pipeline on Fashion-MNIST (`synth demo`, default preset, diversity-aware strategy: feature
# extractor, teacher, twins, audit, filter, gate, utility and fidelity, release) submitted by the `synth` client to a
# local silo process it starts on out/demo/data (and stops at the end); the release is exported to out/demo/release and
# the report's path printed. Extra arguments go to `synth demo` (e.g. --preset quick, --strategy distillation for a
# released student model; see `synth demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-prerequisites.sh run
dotnet build src/OrleansSynth.Silo -c Release --nologo -v quiet
dotnet build src/OrleansSynth.Cli -c Release --nologo -v quiet
export ORLEANSSYNTH_SILO="$PWD/src/OrleansSynth.Silo/bin/Release/net10.0/orleanssynth-silo.dll"
exec src/OrleansSynth.Cli/bin/Release/net10.0/synth demo --out out/demo "$@"
