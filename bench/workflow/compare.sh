#!/usr/bin/env bash
# The whole workflow (run.sh) against two builds in the same run: an earlier commit and the checkout, each as the
# embedded default (SQLite, one process), alternately, so that the machine's noise falls on both alike.
# Usage: bench/workflow/compare.sh BEFORE_COMMIT [RUNS] [clip.mp4]
# ROTO_ENGINE=classical|learned (default classical: engines changed between commits would hide the rest).
set -euo pipefail
cd "$(dirname "$0")/../.."
BEFORE=${1:?an earlier commit}; RUNS=${2:-4}; CLIP=${3:-../shared/data/clips/01_dog.mp4}
ENGINE=${ROTO_ENGINE:-classical}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; git worktree remove --force "$work/before" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
git worktree add -q --detach "$work/before" "$BEFORE"
for tree in "$work/before" "$PWD"; do dotnet build "$tree/src/Roto.Server" -c Release -nologo -v quiet >/dev/null; done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start() { # tree → sets PORT (no subshell: the server must stay this shell's child)
  local S=$1/src/Roto.Server/bin/Release/net10.0
  PORT=$(free_port)
  mkdir -p "$work/data-$PORT"
  Roto__DataDir=$work/data-$PORT Roto__ApiKeys__0=compare-key Roto__Models__Engine=$ENGINE Logging__LogLevel__Default=Warning \
    dotnet "$S/Roto.Server.dll" --contentRoot "$S" --urls "http://127.0.0.1:$PORT" >"$work/server-$PORT.log" 2>&1 &
  pids+=($!)
  until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; do
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "the server of $1 died while starting:" >&2; tail -40 "$work/server-$PORT.log" >&2; exit 1; }
    sleep 0.5
  done
}
start "$work/before"; before=$PORT
start "$PWD"; after=$PORT
echo "before: $(git rev-parse --short "$BEFORE"), after: $(git rev-parse --short HEAD), engines: $ENGINE"
sleep 15 # both finish loading their engines in the background
for ((r = 1; r <= RUNS; r++)); do
  for side in before:$before after:$after; do
    echo "== ${side%%:*} run $r, load $(cut -d' ' -f1 /proc/loadavg)"
    bench/workflow/run.sh "http://127.0.0.1:${side##*:}" compare-key "$CLIP" 2>&1 | grep -E '^[a-z-]+ +[0-9.]+ s'
  done
done | tee "$work/runs.txt"
# Medians per step and of the steps' sum (ffmpeg excluded), per side.
python3 - "$work/runs.txt" <<'PY'
import re, statistics, sys
runs = {"before": [], "after": []}
for line in open(sys.argv[1]):
    if line.startswith("=="):
        side = line.split()[1]; runs[side].append({})
    elif (m := re.match(r"([a-z-]+) +([0-9.]+) s", line)):
        runs[side][-1][m[1]] = float(m[2])
steps = [k for k in runs["before"][0] if k != "ffmpeg-veryfast"]
print(f"{'step':<16}{'before':>9}{'after':>9}{'ratio':>8}   (medians of {len(runs['before'])} runs)")
for k in steps + ["ffmpeg-veryfast", "sum"]:
    vals = {s: statistics.median(sum(r[x] for x in steps) if k == "sum" else r[k] for r in runs[s]) for s in runs}
    print(f"{k:<16}{vals['before']:>9.2f}{vals['after']:>9.2f}{vals['after'] / max(vals['before'], 1e-9):>8.3f}")
PY
