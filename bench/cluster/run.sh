#!/usr/bin/env bash
# Tasks per minute with one worker, then two, each worker pinned to a core of its own (taskset), over one PostgreSQL
# and one shared data directory, with one API process taking the requests. Each round queues TASKS removals on one
# selected session at once and times them from the first request to the last task done.
# Usage: bench/cluster/run.sh [TASKS] [clip.mp4]   (run from the checkout; needs 2 cores or more, PostgreSQL as test.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
TASKS=${1:-6}; SOURCE=${2:-../shared/data/clips/01_dog.mp4}
KEY=bench-cluster-key
dotnet build src/Roto.Server -c Release -nologo -v quiet
SERVER=$PWD/src/Roto.Server/bin/Release/net10.0
work=$(mktemp -d); chmod 755 "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; ./scripts/postgres.sh stop "$work/pg"; rm -rf "$work"; }
trap cleanup EXIT
postgres_env=$(./scripts/postgres.sh start "$work/pg"); eval "$postgres_env"
# A cut the two cores get through in reasonable time; relaxed profile for its size.
CLIP=$work/clip.mp4
ffmpeg -v error -i "$SOURCE" -t 3 -vf scale=640:360 -c:v libx264 -preset ultrafast -pix_fmt yuv420p -an "$CLIP"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d'+sys.argv[1]))" "$1"; }

start_roto() { # role port database [taskset cpu]
  local role=$1 port=$2 db=$3 cpu=${4:-}
  local run=(dotnet "$SERVER/Roto.Server.dll" --contentRoot "$SERVER" --urls "http://127.0.0.1:$port")
  [[ -n "$cpu" ]] && run=(taskset -c "$cpu" "${run[@]}")
  Roto__Role=$role Roto__DataDir=$work/data-$db Roto__ApiKeys__0=$KEY Roto__Limits__Profile=relaxed \
  Roto__Limits__MaxConcurrentTasks=$TASKS Roto__Limits__RequestsPerMinute=0 Roto__AllowPrivateNetworks=true \
  Roto__Database__Provider=postgres Roto__Database__ConnectionString="${ROTO_TEST_POSTGRES/Database=postgres/Database=$db}" \
  Logging__LogLevel__Default=Warning MALLOC_ARENA_MAX=2 "${run[@]}" >"$work/$role-$port.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "the $role process exited while starting:" >&2; tail -20 "$work/$role-$port.log" >&2; exit 1; }
    sleep 0.2
  done
}

# CPU time (s) of the whole machine, then of each started process with its children (ffmpeg), from /proc.
cpu_seconds() {
  local hz; hz=$(getconf CLK_TCK)
  awk -v hz="$hz" '/^cpu /{print ($2+$3+$4+$7+$8)/hz}' /proc/stat
  for p in "${pids[@]}"; do awk -v hz="$hz" '{print ($14+$15+$16+$17)/hz}' "/proc/$p/stat"; done
}

# Queues COUNT removals on the round's session and waits until no task is unfinished. Inside the timed part the
# bench uses curl and grep only: on two cores, a Python start per request would take CPU from the workers it measures.
queue_and_wait() { # count
  local ids=()
  for ((t = 0; t < $1; t++)); do
    ids+=("$(curl -sf -H "$H" -d "{\"session_id\":\"$sid\",\"edit_mode\":\"removal\",\"prompt\":\"x\"}" "$B" | grep -o '"task_id":"[^"]*"')")
  done
  # One list request every half second for all of them.
  until [[ $(curl -sf -H "$H" "$B?pageNum=1&pageSize=500" | grep -oE '"task_status":"[a-z]+"' | grep -cvE 'succeed|failed') == 0 ]]; do
    sleep 0.5
  done
  [[ ${#ids[@]} == "$1" ]] || { echo "only ${#ids[@]} of $1 tasks were created" >&2; exit 1; }
}

round() { # workers
  local n=$1 db=bench_$1 api
  psql "postgresql://roto@127.0.0.1:$(sed 's/.*Port=\([0-9]*\).*/\1/' <<<"$ROTO_TEST_POSTGRES")/postgres" -qc "CREATE DATABASE $db" >/dev/null
  api=$(free_port); start_roto api "$api" "$db"
  for ((i = 0; i < n; i++)); do start_roto worker "$(free_port)" "$db" "$i"; done
  local base=http://127.0.0.1:$api B=http://127.0.0.1:$api/v1/videos/multi-elements H="Authorization: Bearer $KEY"
  local url sid
  url=$(curl -sf -H "$H" -F "file=@$CLIP" "$base/v1/uploads" | json "['data']['url']")
  sid=$(curl -sf -H "$H" -d "{\"video_url\":\"$url\"}" "$B/init-selection" | json "['data']['session_id']")
  curl -sf -H "$H" -d "{\"session_id\":\"$sid\",\"frame_index\":0,\"points\":[{\"x\":0.49,\"y\":0.64}]}" "$B/add-selection" >/dev/null
  # Warm-up, untimed: one task per worker, so that each has loaded its networks, compiled its code and read the
  # session before the clock starts (a cluster runs for hours; its start-up is not its throughput). A task takes
  # seconds, so with n tasks queued at once each of the n idle workers claims one.
  queue_and_wait "$n"
  local began ended cpu_before cpu_after
  cpu_before=$(cpu_seconds)
  began=$(date +%s.%N)
  queue_and_wait "$TASKS"
  ended=$(date +%s.%N)
  cpu_after=$(cpu_seconds)
  paste <(echo "$cpu_before") <(echo "$cpu_after") | awk '{d[NR]=$2-$1} END {printf "  CPU seconds: machine %.1f, api %.1f, workers", d[1], d[2]; for (i = 3; i <= NR; i++) printf " %.1f", d[i]; print " (each with its ffmpeg)"}'
  python3 -c "import sys; n,t,w=int(sys.argv[1]),float(sys.argv[2]),int(sys.argv[3]); print(f'{w} worker(s): {n} tasks in {t:.1f} s = {n*60/t:.2f} tasks/min')" "$TASKS" "$(echo "$ended - $began" | bc)" "$n"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=()
}

# The peer, in the same run: what this machine gives two single-core jobs at once. The same x264 transcode of the
# clip, pinned to one core, alone and then twice at once on two cores; the ratio of their rates is the ceiling
# that two single-core workers can reach here.
peer() { # cpus...
  local began ended
  began=$(date +%s.%N)
  for cpu in "$@"; do
    (for _ in 1 2 3 4; do taskset -c "$cpu" ffmpeg -v error -y -i "$CLIP" -c:v libx264 -preset medium -threads 1 -f null -; done) &
  done
  wait
  ended=$(date +%s.%N)
  python3 -c "import sys; n,t=int(sys.argv[1]),float(sys.argv[2]); print(f'ffmpeg peer, {n} single-core job(s) of 4 transcodes at once: {t:.2f} s = {n*4*60/t:.1f} transcodes/min')" "$#" "$(echo "$ended - $began" | bc)"
}
peer 0; peer 0 1

round 1
round 2
