#!/usr/bin/env bash
# Starts Roto on http://127.0.0.1:8080 with its embedded defaults. Extra arguments go to the server,
# e.g. ./run.sh --urls http://127.0.0.1:18080 or ./run.sh --Roto:Limits:Profile=relaxed
set -euo pipefail
cd "$(dirname "$0")"
./scripts/prerequisites.sh
dotnet build src/Roto.Server -c Release -nologo -v quiet
# glibc otherwise keeps native memory freed by OpenCV and ONNX Runtime in one 64 MB heap per thread, and the
# resident size climbs under load (bench/Roto.Bench.Load); fewer arenas and earlier trimming keep it flat.
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2} MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-262144} MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-262144}
exec dotnet src/Roto.Server/bin/Release/net10.0/Roto.Server.dll --contentRoot "$PWD/src/Roto.Server/bin/Release/net10.0" "$@"
