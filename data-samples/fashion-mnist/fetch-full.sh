#!/usr/bin/env bash
# The full Fashion-MNIST set (60k train / 10k test) as Pare Parquet tables, for benchmarks.
# Installs Debian's dataset-fashion-mnist package if its idx files are missing, then converts them
# with `pare import-idx` into data-samples/fashion-mnist/full/{train,test}.parquet (git-ignored).
#   data-samples/fashion-mnist/fetch-full.sh [OUT_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$here/full}
idx=/usr/share/datasets/fashion-mnist
if [ ! -f "$idx/train-images-idx3-ubyte.gz" ]; then
  echo "fetch-full: installing Debian package dataset-fashion-mnist" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi
mkdir -p "$out"
# The layout import-idx writes (row groups of 1 MiB since 2026-11-26: scans can split the files for their
# task slots); a set fetched before, without this marker, is converted again.
layout="import-idx, row groups of 1 MiB"
if [ -d "$out/train.parquet" ] && [ -d "$out/test.parquet" ] && [ "$(cat "$out/LAYOUT" 2>/dev/null)" = "$layout" ]; then
  echo "fetch-full: $out already holds train.parquet and test.parquet" >&2
  exit 0
fi
rm -f "$out/LAYOUT"
"$root/deploy/pare" import-idx --images "$idx/train-images-idx3-ubyte.gz" --labels "$idx/train-labels-idx1-ubyte.gz" \
  --output "$out/train.parquet" --master 'local[2]' --force
"$root/deploy/pare" import-idx --images "$idx/t10k-images-idx3-ubyte.gz" --labels "$idx/t10k-labels-idx1-ubyte.gz" \
  --output "$out/test.parquet" --id-offset 1000000 --master 'local[2]' --force
find "$out" -name '.*.crc' -delete
echo "$layout" > "$out/LAYOUT"
