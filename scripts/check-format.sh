#!/usr/bin/env bash
# The house style, checked without changing anything (.editorconfig says who owns what): CSharpier's layout at 120
# columns, then dotnet format's code style and analyzers. To fix what it reports: `dotnet csharpier format src tests
# bench`, then `dotnet format style OrleansSynth.sln` and `dotnet format analyzers OrleansSynth.sln`.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet tool restore >/dev/null
dotnet csharpier check src tests bench
dotnet restore OrleansSynth.sln --nologo -v q
dotnet format style OrleansSynth.sln --verify-no-changes --no-restore
dotnet format analyzers OrleansSynth.sln --verify-no-changes --no-restore
