#!/usr/bin/env bash
# Installs what Roto needs beyond the .NET SDK, only when it is missing:
# ffmpeg/ffprobe (H.264 encoding, probing) and libgtk-3-0 (needed by OpenCvSharp's official Linux runtime).
# With --browser it also installs Chromium for the Studio's end-to-end tests.
# Says what it installs and how long that took; prints one line when nothing is missing.
set -euo pipefail
packages=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || packages+=(ffmpeg)
ldconfig -p 2>/dev/null | grep -q 'libgtk-3.so.0' || packages+=(libgtk-3-0)
if [[ "${1:-}" == "--browser" ]]; then
  command -v chromium >/dev/null 2>&1 || packages+=(chromium fonts-liberation)
fi
if ! command -v dotnet >/dev/null 2>&1; then
  echo "Roto needs the .NET 10 SDK (https://dot.net/download); dotnet is not on PATH" >&2
  exit 1
fi
if ((${#packages[@]} == 0)); then
  echo "==> Prerequisites: all present (ffmpeg, libgtk-3-0${1:+, chromium})"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "Roto needs these Debian packages: ${packages[*]} (run as root or install them with apt-get)" >&2
  exit 1
fi
echo "==> Prerequisites: installing ${packages[*]} with apt-get (once; about a minute, more on a slow mirror)"
started=$SECONDS
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "==> Prerequisites: installed in $((SECONDS - started)) s"
