#!/usr/bin/env bash
# Scale-out: `pare calibrate` and `pare score-data` on the full Fashion-MNIST training set (60k rows), submitted
# with spark-submit semantics (client mode, pare-cluster.jar) to a local Spark standalone cluster
# (deploy/standalone-cluster.sh) of 1 worker x 1 core, then 2 workers x 1 core; one configuration at a time.
# Prints ONE JSON document (also written to WORK_DIR/scale-out.json): per configuration and stage the wall
# time from submit to exit and the stage's own seconds (provenance.json), and the speed-ups over 1 x 1.
#   deploy/bench/scale-out.sh [WORK_DIR]          (default target/bench/scale-out)
# Environment:
#   SCALE_WORKERS ("1 2"): the configurations, as numbers of one-core workers
#   SCALE_TRAIN (the full set, fetched on first use): training table; SCALE_TEST likewise
#   SCALE_FILES (4): the training table is first rewritten into this many Parquet files, as in the runs
#     before session 26, when Spark's splits made tasks of equal rows only from files of equal size (0: use it
#     as it is; the fetched set has 3 files, which Pare's reader now cuts into equal pieces as well)
#   SCALE_CALIBRATION_SAMPLES (60000: every row of the full set): calibration.samples
#   SCALE_SET: extra `--set key=value` words for both stages, e.g. "prune.criterion=taylor"
#   SCALE_TEACHER (data-samples/fashion-mnist/teacher-lenet300100.zip): the teacher model, e.g.
#     data-samples/fashion-mnist/teacher-lenet5.zip for LeNet-5
#   PARE_EXECUTOR_MEMORY (2g), PARE_WORKER_MEMORY (3g); BENCH_DRIVER_OPTS (-Xmx2g) for the driver JVM
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. "$root/deploy/bench/lib.sh"
work=${1:-$root/target/bench/scale-out}
mkdir -p "$work"
work=$(cd "$work" && pwd)
bench_speed_env
if [ -z "${SCALE_TRAIN:-}" ] || [ -z "${SCALE_TEST:-}" ]; then
  data-samples/fashion-mnist/fetch-full.sh >&2
fi
train=${SCALE_TRAIN:-$root/data-samples/fashion-mnist/full/train.parquet}
test=${SCALE_TEST:-$root/data-samples/fashion-mnist/full/test.parquet}
files=${SCALE_FILES:-4}
samples=${SCALE_CALIBRATION_SAMPLES:-60000}
workers=${SCALE_WORKERS:-1 2}
teacher=${SCALE_TEACHER:-$root/data-samples/fashion-mnist/teacher-lenet300100.zip}
bench_dist
if [ "$files" != 0 ]; then
  bench_main BenchTool synthetic-data --source "$train" --output "$work/train-$files-files.parquet" --copies 1 \
    --files "$files" >&2
  train=$work/train-$files-files.parquet
fi
sets=(--set "data.train=$train" --set "data.test=$test" --set "teacher.model=$teacher"
  --set "calibration.samples=$samples")
for s in ${SCALE_SET:-}; do sets+=(--set "$s"); done

measurements=$work/measurements.tsv
: > "$measurements"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
cluster=
stop_cluster() {
  if [ -n "$cluster" ]; then
    "$root/deploy/standalone-cluster.sh" stop "$cluster" >&2 || true
    cluster=
  fi
}
trap stop_cluster EXIT
for n in $workers; do
  cluster=$work/cluster-$n
  echo "scale-out: starting $n worker(s) x 1 core in $cluster" >&2
  url=$(bench_cluster_start "$n" "$cluster")
  run_dir=$work/runs/$n-workers
  rm -rf "$run_dir"
  for stage in calibrate score-data; do
    echo "scale-out: $n worker(s): pare $stage -> $run_dir (log $work/$n-workers-$stage.log)" >&2
    t0=$(bench_now)
    rc=0
    # --force: each stage checks the training table itself, in its own pass, as the first command on a run
    # directory does (else score-data would take calibrate's record of the checks); the run directory is fresh.
    bench_submit "$url" "$n" "$stage" --run-dir "$run_dir" --force "${sets[@]}" > "$work/$n-workers-$stage.log" 2>&1 || rc=$?
    t1=$(bench_now)
    printf '%s\t1\t%s\t%s\t%s\t%s\n' "$n" "$stage" "$rc" "$(bench_seconds "$t0" "$t1")" "$run_dir" >> "$measurements"
    [ "$rc" = 0 ] || { echo "scale-out: $stage failed ($rc); see $work/$n-workers-$stage.log" >&2; tail -n 20 "$work/$n-workers-$stage.log" >&2; }
  done
  stop_cluster
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

bench_main BenchTool scale-out --measurements "$measurements" \
  --setting "train=$train" --setting "trainFiles=$files" --setting "calibration.samples=$samples" \
  --setting "extraSets=${SCALE_SET:-}" --setting "teacher=$teacher" --setting "executorMemory=${PARE_EXECUTOR_MEMORY:-2g}" \
  --setting "deployMode=client (driver in the spark-submit JVM on this machine)" \
  --setting "OMP_NUM_THREADS=$OMP_NUM_THREADS" --setting "OMP_WAIT_POLICY=$OMP_WAIT_POLICY" \
  --setting "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-}" \
  --setting "loadavgStart=$load_start" --setting "loadavgEnd=$load_end" \
  --note "this machine has $(getconf _NPROCESSORS_ONLN) cores for everything: the driver (client mode, inside the spark-submit JVM), the master and worker daemons and the executors. With 2 one-core workers the executors alone can use both cores, so the driver's own work (input validation, planning, merging the calibration shards, committing the Parquet output) competes with them: expect less than the 2x that workers on separate machines would give." \
  --note "wallSeconds: spark-submit start to exit (JVM start, SparkContext, executors launched by the workers, input validation, the stage); stageSeconds: the stage alone as pare measures it (provenance.json seconds). The per-application start-up is in the first only." \
  --note "calibrate draws calibration.samples rows by a global top-k on a hash of the id (one task gathers them), range-partitions them into calibration.partitions shards (4 by default: one task each) and merges the shards on the driver; score-data runs one task per input split and writes Parquet." \
  --note "the training table is rewritten into trainFiles Parquet files first (0: used as fetched) so that 1 and 2 task slots both get whole waves of similar tasks; Spark packs small files into splits, so the task count follows file sizes and slots." \
  | tee "$work/scale-out.json"
