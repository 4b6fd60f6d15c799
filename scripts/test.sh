#!/usr/bin/env bash
# Installs prerequisites, then builds and runs every test project.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-prerequisites.sh
# Normal verbosity lists every test with its time and shows what the deployment test measured (image sizes, build times).
dotnet test OrleansSynth.sln -c Release --nologo --logger "console;verbosity=normal" "$@"
