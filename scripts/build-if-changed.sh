#!/usr/bin/env bash
# Builds a project in Release only when a source file changed since its last successful build here, and says which.
# Usage: scripts/build-if-changed.sh src/Roto.Server "the server" [source folders, default src]
# A no-op `dotnet build` still costs about 15 s on two cores (MSBuild starting and checking every project), which a
# second start of run.sh or every `./roto` command would pay; comparing file times costs a few milliseconds.
set -euo pipefail
cd "$(dirname "$0")/.."
project=$1
label=${2:-$1}
sources=(${3:-src})
stamp="$project/bin/Release/.built-from-sources"
changed=""
if [[ ! -f $stamp ]]; then
  changed="no earlier build"
else
  changed=$(find "${sources[@]}" Directory.Build.props Directory.Packages.props \( -name bin -o -name obj \) -prune -o -type f -newer "$stamp" -print -quit)
fi
if [[ -z $changed ]]; then
  [[ -n ${QUIET_WHEN_UP_TO_DATE:-} ]] || echo "==> Build of $label: up to date, skipped"
  exit 0
fi
if [[ ! -f $stamp ]]; then
  echo "==> Building $label in Release: the first build restores NuGet packages and takes one to two minutes on 2 cores"
else
  echo "==> Building $label in Release ($changed changed)"
fi
started=$SECONDS
# Touched before building so that a file edited during the build is still newer than the stamp next time.
mkdir -p "$(dirname "$stamp")"
touch "$stamp.next"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build "$project" -c Release -nologo -v quiet
mv "$stamp.next" "$stamp"
echo "==> Built $label in $((SECONDS - started)) s"
