#!/usr/bin/env bash
# Starts Roto on http://127.0.0.1:8080 with its embedded defaults. Extra arguments go to the server,
# e.g. ./run.sh --urls http://127.0.0.1:18080 or ./run.sh --Roto:Limits:Profile=relaxed
set -euo pipefail
cd "$(dirname "$0")"
./scripts/prerequisites.sh
dotnet build src/Roto.Server -c Release -nologo -v quiet
exec dotnet src/Roto.Server/bin/Release/net10.0/Roto.Server.dll --contentRoot "$PWD/src/Roto.Server/bin/Release/net10.0" "$@"
