#!/usr/bin/env bash
# Installs what OrleansSynth needs beyond the .NET 10 SDK, idempotently: the Fashion-MNIST dataset package,
# redis-server and prometheus (the distributed and metrics tests start their own), and GNU time (the bad-input tests
# read the CLI's peak memory with it), chromium (a test opens the Orleans dashboard headless), and for the deployment
# tests Debian's Docker engine, debootstrap (local stand-ins for the official base images) and kubectl (kustomize
# rendering). Safe to run on every invocation.
set -euo pipefail

packages=(dataset-fashion-mnist redis-server prometheus time chromium docker.io debootstrap kubectl)
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
