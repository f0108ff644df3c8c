#!/usr/bin/env bash
# Times the whole curl workflow of the foundation issue against a running Roto:
# upload → init → add → delete → clear → add → preview (twice) → create removal → poll → download, then checks the
# result with ffprobe. Usage: bench/workflow/run.sh http://127.0.0.1:8080 API_KEY [clip.mp4] [x y]
set -euo pipefail
BASE=${1:?base url}; KEY=${2:?api key}; CLIP=${3:-../shared/data/clips/01_dog.mp4}; X=${4:-0.49}; Y=${5:-0.64}
B=$BASE/v1/videos/multi-elements
H="Authorization: Bearer $KEY"
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d'+sys.argv[1]))" "$1"; }
t() { local s=$(date +%s.%N); "$@"; local e=$(date +%s.%N); printf '%-18s %6.2f s\n' "$STEP" "$(echo "$e - $s" | bc)" >&2; }
call() { curl -sf -H "$H" "$@"; }

STEP=upload;    UP=$(t call -F "file=@$CLIP" "$BASE/v1/uploads")
URL=$(echo "$UP" | json "['data']['url']")
STEP=init;      INIT=$(t call -d "{\"video_url\":\"$URL\"}" "$B/init-selection")
SID=$(echo "$INIT" | json "['data']['session_id']"); FRAMES=$(echo "$INIT" | json "['data']['total_frame']")
STEP=add;       t call -d "{\"session_id\":\"$SID\",\"frame_index\":0,\"points\":[{\"x\":$X,\"y\":$Y}]}" "$B/add-selection" >/dev/null
STEP=delete;    t call -d "{\"session_id\":\"$SID\",\"frame_index\":0,\"points\":[{\"x\":$X,\"y\":$Y}]}" "$B/delete-selection" >/dev/null
STEP=clear;     t call -d "{\"session_id\":\"$SID\"}" "$B/clear-selection" >/dev/null
STEP=add-again; t call -d "{\"session_id\":\"$SID\",\"frame_index\":0,\"points\":[{\"x\":$X,\"y\":$Y}]}" "$B/add-selection" >/dev/null
STEP=preview;   t call -d "{\"session_id\":\"$SID\"}" "$B/preview-selection" >/dev/null
STEP=preview-2; t call -d "{\"session_id\":\"$SID\"}" "$B/preview-selection" >/dev/null
STEP=create;    TASK=$(t call -d "{\"session_id\":\"$SID\",\"edit_mode\":\"removal\",\"prompt\":\"Delete it from <<<video_1>>>\"}" "$B")
TID=$(echo "$TASK" | json "['data']['task_id']")
start=$(date +%s.%N)
while :; do
  Q=$(call "$B/$TID"); S=$(echo "$Q" | json "['data']['task_status']")
  [[ $S == succeed || $S == failed ]] && break; sleep 1
done
printf '%-18s %6.2f s (%s)\n' "task" "$(echo "$(date +%s.%N) - $start" | bc)" "$S" >&2
RES=$(echo "$Q" | json "['data']['task_result']['videos'][0]['url']")
OUT=$(mktemp --suffix=.mp4); PEER=$(mktemp --suffix=.mp4)
trap 'rm -f "$OUT" "$PEER"' EXIT
STEP=download;  t curl -sf "$RES" -o "$OUT"
echo "result: $(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=codec_name,pix_fmt,width,height,nb_read_packets -of csv=p=0 "$OUT"); session total_frame: $FRAMES" >&2
# The peer, in the same run: a plain ffmpeg transcode of the same clip.
STEP=ffmpeg-veryfast; t ffmpeg -v error -y -i "$CLIP" -c:v libx264 -preset veryfast "$PEER"
