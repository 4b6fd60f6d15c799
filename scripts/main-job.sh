#!/usr/bin/env bash
# The main job: the whole pipeline on Fashion-MNIST (`synth demo`, default preset: teacher, sampling, audit, filter,
# gate, student, student audit, utility and fidelity, release) on an embedded silo; prints where the report is.
# Extra arguments go to `synth demo` (e.g. --preset quick, --strategy diversity-aware; see `synth demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-prerequisites.sh
dotnet build src/OrleansSynth.Cli -c Release --nologo -v quiet
exec src/OrleansSynth.Cli/bin/Release/net10.0/synth demo --out out/demo "$@"
