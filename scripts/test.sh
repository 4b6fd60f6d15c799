#!/usr/bin/env bash
# Installs prerequisites, then builds and runs every test project.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-prerequisites.sh
dotnet test OrleansSynth.sln -c Release --nologo "$@"
