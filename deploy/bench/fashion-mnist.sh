#!/usr/bin/env bash
# Fashion-MNIST benchmark of the end-to-end slice (see FashionMnistBenchmark's Javadoc for the
# protocol). Prints one JSON document on stdout (progress on stderr); also saved under the work dir.
#   deploy/bench/fashion-mnist.sh [WORK_DIR]      (default target/bench/fashion-mnist)
# Run it on a quiet machine: with 2 cores, any other busy process distorts every number.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
work=${1:-$root/target/bench/fashion-mnist}
data-samples/fashion-mnist/fetch-full.sh >&2
mkdir -p "$work"
export PARE_MAIN=dev.pare.jobs.bench.FashionMnistBenchmark
deploy/pare "$root/data-samples/fashion-mnist/full/train.parquet" "$root/data-samples/fashion-mnist/full/test.parquet" \
  "$work" 'local[2]' | tee "$work/result.json"
