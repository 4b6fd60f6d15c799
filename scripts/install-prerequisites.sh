#!/usr/bin/env bash
# Installs what OrleansSynth needs beyond the .NET 10 SDK, idempotently, for one of three uses:
#   scripts/install-prerequisites.sh run    building and running it on one machine (the main job, the benchmarks): the
#                                           Fashion-MNIST dataset package and GDCM's C# bindings (DICOM input); a local
#                                           silo needs no servers.
#   scripts/install-prerequisites.sh bench  the same and Debian's python3-torch, the reference bench/scripts/versus-pytorch.sh
#                                           runs our trainer and sampler against.
#   scripts/install-prerequisites.sh test   (the default) the tests as well: redis-server and prometheus (the
#                                           distributed and metrics tests start their own), GNU time (the bad-input tests
#                                           read the CLI's peak memory with it), chromium (a test opens the Orleans
#                                           dashboard headless), and for the deployment tests Debian's Docker engine,
#                                           debootstrap (local stand-ins for the official base images) and kubectl
#                                           (kustomize rendering); and Azurite, the Azure Storage emulator, from npm
#                                           (the azure mode's tests run against it); dcmtk (the DICOM tests write their
#                                           files with it) and python3-torch (a release's sample.py is run with it).
# Safe to run on every invocation.
set -euo pipefail

run_packages=(dataset-fashion-mnist libgdcm-cil)
test_packages=(redis-server prometheus time chromium docker.io debootstrap kubectl dcmtk python3-torch)
use=${1:-test}
case "$use" in
  run) packages=("${run_packages[@]}") ;;
  bench) packages=("${run_packages[@]}" python3-torch) ;;
  test) packages=("${run_packages[@]}" "${test_packages[@]}") ;;
  *) echo "usage: $0 [run|bench|test]" >&2; exit 2 ;;
esac
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v dotnet >/dev/null || { echo "the .NET 10 SDK is required (dotnet not on PATH)" >&2; exit 1; }

# Azurite (blob, queue and table) from npm into a tools folder of its own; the tests find it there
# (or at ORLEANSSYNTH_AZURITE).
if [[ "$use" == test ]]; then
  tools=${ORLEANSSYNTH_TOOLS:-$HOME/.cache/orleanssynth}
  if [[ ! -x "$tools/azurite/node_modules/.bin/azurite" ]]; then
    command -v npm >/dev/null || { echo "npm is required to install Azurite" >&2; exit 1; }
    echo "installing: azurite 3.37.0 (npm) into $tools/azurite"
    mkdir -p "$tools/azurite"
    npm install --prefix "$tools/azurite" --no-audit --no-fund --loglevel=error azurite@3.37.0 >/dev/null
  fi
fi
