#!/usr/bin/env bash
# Builds local stand-ins for the official base images, which cannot be pulled here (no registry is reachable):
#   orleanssynth-standin/runtime-deps:bookworm  Debian bookworm from debootstrap with what .NET's runtime-deps holds
#   orleanssynth-standin/sdk:10.0                that root plus this machine's .NET SDK and CA bundle (NuGet over TLS)
#   orleanssynth-standin/redis:7                 that root plus Debian's redis-server
# Each is built once per Docker engine (skipped when present). Usage: build-stand-in-images.sh WORKDIR
set -euo pipefail
work=${1:?usage: build-stand-in-images.sh WORKDIR}
mkdir -p "$work"

have() { docker image inspect "$1" >/dev/null 2>&1; }

root="$work/rootfs"
if ! have orleanssynth-standin/runtime-deps:bookworm || ! have orleanssynth-standin/sdk:10.0; then
  rm -rf "$root"
  debootstrap --variant=minbase --include=ca-certificates,libssl3,libicu72,zlib1g,tzdata bookworm "$root" http://deb.debian.org/debian >"$work/debootstrap.log"
  # Documentation and package caches are not part of a runtime base.
  rm -rf "$root"/usr/share/{doc,man,info} "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*
fi

if ! have orleanssynth-standin/runtime-deps:bookworm; then
  tar -C "$root" -c . | docker import - orleanssynth-standin/runtime-deps:bookworm >/dev/null
fi

if ! have orleanssynth-standin/sdk:10.0; then
  dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
  sdk="$work/sdkroot"
  rm -rf "$sdk" && cp -a "$root" "$sdk"
  mkdir -p "$sdk/usr/share/dotnet" && cp -a "$dotnet_root/." "$sdk/usr/share/dotnet/"
  ln -sf /usr/share/dotnet/dotnet "$sdk/usr/bin/dotnet"
  cp /etc/ssl/certs/ca-certificates.crt "$sdk/etc/ssl/certs/ca-certificates.crt"
  tar -C "$sdk" -c . | docker import -c 'ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 NUGET_CERT_REVOCATION_MODE=offline' - orleanssynth-standin/sdk:10.0 >/dev/null
  rm -rf "$sdk"
fi

if ! have orleanssynth-standin/redis:7; then
  DOCKER_BUILDKIT=0 docker build --network host -q -t orleanssynth-standin/redis:7 - >/dev/null <<'DOCKERFILE'
FROM orleanssynth-standin/runtime-deps:bookworm
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null \
 && rm -rf /var/lib/apt/lists/*
USER redis
ENTRYPOINT ["redis-server"]
DOCKERFILE
fi
rm -rf "$root"
