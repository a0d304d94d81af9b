#!/usr/bin/env bash
# Fashion-MNIST benchmarks on the full 60k/10k set (fetched on first use). Progress goes to stderr,
# JSON documents to stdout and to files under the work dir.
#   deploy/bench/fashion-mnist.sh [slice] [WORK_DIR]   the stage pipeline: teacher training, magnitude and
#                                                      wanda at 50/70/90% + 2 KD epochs on all data
#                                                      (FashionMnistBenchmark; one document)
#   deploy/bench/fashion-mnist.sh pruning [WORK_DIR]   the pruning toolbox: every criterion x pattern on the
#                                                      LeNet-300-100 (KD on all data) and the LeNet-5 CNN
#                                                      (KD on a seeded 10%) teachers, size and latency
#                                                      (PruningBenchmark; one document per teacher)
#   deploy/bench/fashion-mnist.sh data [WORK_DIR]      data pruning: every selector at f = 0.1/0.3/0.5 (plain
#                                                      and class-balanced) + full data for the Wanda 50%
#                                                      student; gradual vs one-shot to 90%
#                                                      (DataPruningBenchmark; one document)
# WORK_DIR defaults to target/bench/fashion-mnist. Run on a quiet machine: with 2 cores, any other
# busy process distorts every number.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
suite=slice
if [[ $# -gt 0 && ( $1 == slice || $1 == pruning || $1 == data ) ]]; then
  suite=$1
  shift
fi
work=${1:-$root/target/bench/fashion-mnist}
data-samples/fashion-mnist/fetch-full.sh >&2
mkdir -p "$work"
full=$root/data-samples/fashion-mnist/full
case $suite in
  slice)
    PARE_MAIN=dev.pare.jobs.bench.FashionMnistBenchmark deploy/pare "$full/train.parquet" "$full/test.parquet" \
      "$work" --master 'local[2]' | tee "$work/result.json"
    ;;
  pruning)
    PARE_MAIN=dev.pare.jobs.bench.PruningBenchmark deploy/pare "$full/train.parquet" "$full/test.parquet" \
      "$root/data-samples/fashion-mnist/teacher-lenet300100.zip" 1.0 --master 'local[2]' | tee "$work/pruning-mlp.json"
    PARE_MAIN=dev.pare.jobs.bench.PruningBenchmark deploy/pare "$full/train.parquet" "$full/test.parquet" \
      "$root/data-samples/fashion-mnist/teacher-lenet5.zip" 0.1 --master 'local[2]' | tee "$work/pruning-cnn.json"
    ;;
  data)
    PARE_MAIN=dev.pare.jobs.bench.DataPruningBenchmark deploy/pare "$full/train.parquet" "$full/test.parquet" \
      "$root/data-samples/fashion-mnist/teacher-lenet300100.zip" --master 'local[2]' | tee "$work/data-pruning.json"
    ;;
esac
