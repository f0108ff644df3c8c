#!/usr/bin/env bash
# Installs the prerequisites, builds everything with warnings as errors, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/prerequisites.sh --browser
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Roto.slnx -c Release -nologo -v quiet
# The database tests run on SQLite and on PostgreSQL: a throwaway server for this run, stopped on exit.
postgres_dir=$(mktemp -d)
chmod 755 "$postgres_dir"
trap './scripts/postgres.sh stop "$postgres_dir/pg"; rm -rf "$postgres_dir"' EXIT
postgres_env=$(./scripts/postgres.sh start "$postgres_dir/pg")
eval "$postgres_env"
mkdir -p artifacts
status=0
dotnet test Roto.slnx -c Release --no-build --logger "console;verbosity=normal" --logger "trx" --results-directory artifacts/test-results \
  -- RunConfiguration.TestSessionTimeout=3000000 2>&1 | tee artifacts/test-output.log || status=$?
# One closing line with the totals, for people and CI.
count() { grep -Eo "^ +$1: +[0-9]+" artifacts/test-output.log | awk '{s+=$2} END {print s+0}' || true; }
passed=$(count Passed)
failed=$(count Failed)
skipped=$(count Skipped)
echo "Total: ${passed} passed, ${failed} failed, ${skipped} skipped"
exit $status
