# Sourced by the benchmark scripts that drive a local silo process through the `synth` client:
#   . bench/scripts/local-silo.sh && start_local_silo DATA_FOLDER
# builds the silo and the client, starts a fresh local silo on DATA_FOLDER and stops it when the script exits;
# `synth` then talks to that silo, and `local_silo_field Pid|GatewayPort|...` reads its local-silo.json.
start_local_silo() {
  LOCAL_SILO_DATA=$1
  dotnet build src/OrleansSynth.Silo -c Release --nologo -v quiet
  dotnet build src/OrleansSynth.Cli -c Release --nologo -v quiet
  export ORLEANSSYNTH_SILO="$PWD/src/OrleansSynth.Silo/bin/Release/net10.0/orleanssynth-silo.dll"
  trap 'synth local stop >/dev/null 2>&1 || true' EXIT
  synth local start
}

synth() { src/OrleansSynth.Cli/bin/Release/net10.0/synth --data "$LOCAL_SILO_DATA" "$@"; }

local_silo_field() { grep -o "\"$1\": *[0-9]*" "$LOCAL_SILO_DATA/local-silo.json" | grep -o '[0-9]*$'; }
