#!/usr/bin/env bash
# Driver memory against data size: synthetic training sets of the Fashion-MNIST schema at 60k rows (the full
# training set) and at 600k rows (10 copies with new ids, written with Spark), and on each the stages that read
# the whole training set: calibrate, score-data, select-data, then prune and distill (1 epoch) on a subset of
# the same size for both (6000 examples). Each stage is its own `pare` command (Spark local mode, -Xmx4g) with a
# GC log, and a full collection forced every 250 ms inside the driver JVM (LiveHeapAgent in dev.pare.jobs.bench,
# as -javaagent): the heap after those is the live set, the driver's peak heap is the largest of them (GcLog,
# which also reports the largest heap after any collection). Prints ONE JSON document (also
# WORK_DIR/memory.json): peaks per size and stage, and the ratios of the 600k peaks to the 60k peaks (the goal:
# at most 1.2 for 10x the data).
#   deploy/bench/memory.sh [WORK_DIR]          (default target/bench/memory)
# In local mode the executors are threads of the driver JVM: its heap holds their task memory too.
# MEMORY_MODE=standalone runs every stage on a local standalone cluster (2 one-core workers, client mode)
# instead, with the executors' GC logs reported separately.
# Environment: MEMORY_SOURCE (the full training set, fetched on first use), MEMORY_TEST (its test set),
# MEMORY_BASE_ROWS (0: every source row), MEMORY_FACTOR (10), MEMORY_SUBSET (6000), MEMORY_XMX (4g: the
# driver's -Xmx), MEMORY_MODE (local | standalone), MEMORY_SAMPLE_MS (250: the interval of the forced full
# collections; 0: none). Sampled runs are slower (each sample is a full collection): their wall times are no
# speed figures.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. "$root/deploy/bench/lib.sh"
work=${1:-$root/target/bench/memory}
mkdir -p "$work"
work=$(cd "$work" && pwd)
bench_speed_env
if [ -z "${MEMORY_SOURCE:-}" ] || [ -z "${MEMORY_TEST:-}" ]; then
  data-samples/fashion-mnist/fetch-full.sh >&2
fi
source_table=${MEMORY_SOURCE:-$root/data-samples/fashion-mnist/full/train.parquet}
test=${MEMORY_TEST:-$root/data-samples/fashion-mnist/full/test.parquet}
base=${MEMORY_BASE_ROWS:-0}
factor=${MEMORY_FACTOR:-10}
subset=${MEMORY_SUBSET:-6000}
xmx=${MEMORY_XMX:-4g}
mode=${MEMORY_MODE:-local}
case "$mode" in local|standalone) ;; *) echo "memory: MEMORY_MODE must be local or standalone" >&2; exit 2 ;; esac
if [ -n "${MEMORY_SAMPLE_SECONDS:-}" ]; then
  echo "memory: MEMORY_SAMPLE_SECONDS is gone: set MEMORY_SAMPLE_MS (milliseconds, default 250; 0: none)" >&2
  exit 2
fi
sample=${MEMORY_SAMPLE_MS:-250}
[[ "$sample" =~ ^[0-9]+$ ]] || { echo "memory: MEMORY_SAMPLE_MS must be a whole number of milliseconds, got '$sample'" >&2; exit 2; }
teacher=$root/data-samples/fashion-mnist/teacher-lenet300100.zip
stages=(calibrate score-data select-data prune distill)

# 1. The two training sets (kept between runs: regenerated only when their recipe changes).
sizes=()
mkdir -p "$work/data"
for copies in 1 "$factor"; do
  out=$work/data/train-x$copies.parquet
  recipe="source=$source_table first=$base copies=$copies"
  if [ ! -f "$out.recipe" ] || [ "$(cat "$out.recipe")" != "$recipe" ] || [ ! -d "$out" ]; then
    rm -f "$out.recipe"
    echo "memory: writing $out ($recipe)" >&2
    bench_main BenchTool synthetic-data --source "$source_table" --output "$out" --copies "$copies" --first "$base" \
      | tee "$out.log" >&2
    sed -n 's/^synthetic-data: wrote \([0-9]*\) rows.*/\1/p' "$out.log" > "$out.rows"
    echo "$recipe" > "$out.recipe"
  fi
  sizes+=("$(cat "$out.rows"):$out")
done

# 2. The stages on each size, one JVM each.
cluster=
stop_cluster() {
  if [ -n "$cluster" ]; then
    "$root/deploy/standalone-cluster.sh" stop "$cluster" >&2 || true
    cluster=
  fi
}
trap stop_cluster EXIT
if [ "$mode" = standalone ]; then
  bench_dist
  cluster=$work/cluster
  url=$(bench_cluster_start 2 "$cluster")
fi
# The live-heap sampler: an agent jar of LiveHeapAgent alone, given to every driver JVM (and executor JVM in
# standalone mode).
agent=
if [ "$sample" != 0 ]; then
  agent=$(bench_live_heap_agent "$work/live-heap-agent.jar")
fi
measurements=$work/measurements.tsv
: > "$measurements"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for size in "${sizes[@]}"; do
  rows=${size%%:*}
  train=${size#*:}
  run_dir=$work/runs/$rows
  logs=$work/gc/$rows
  rm -rf "$run_dir" "$logs"
  mkdir -p "$logs"
  # (subset + 0.5) / rows: floor(f * rows) is exactly `subset` whatever the rounding of f.
  fraction=$(awk -v k="$subset" -v n="$rows" 'BEGIN { f = (k + 0.5) / n; if (f > 1) f = 1; printf "%.12f", f }')
  sets=(--set "data.train=$train" --set "data.test=$test" --set "teacher.model=$teacher"
    --set "selection.fraction=$fraction" --set "distill.epochs=1")
  for stage in "${stages[@]}"; do
    gc="-Xmx$xmx -XX:+UseG1GC -Xlog:gc:file=$logs/$stage-driver.log${agent:+ -javaagent:$agent=$sample}"
    echo "memory: $rows rows: pare $stage ($mode)" >&2
    t0=$(bench_now)
    rc=0
    if [ "$mode" = local ]; then
      PARE_JAVA_OPTS="$gc" "$root/deploy/pare" "$stage" --run-dir "$run_dir" --master 'local[2]' "${sets[@]}" \
        > "$logs/$stage.out" 2>&1 || rc=$?
      executors=-
    else
      executors=$logs/$stage-executors
      mkdir -p "$executors"
      BENCH_DRIVER_OPTS="$gc" \
        BENCH_EXECUTOR_OPTS="-XX:+UseG1GC -Xlog:gc:file=$executors/executor-%p.log${agent:+ -javaagent:$agent=$sample}" \
        bench_submit "$url" 2 "$stage" --run-dir "$run_dir" "${sets[@]}" > "$logs/$stage.out" 2>&1 || rc=$?
    fi
    t1=$(bench_now)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$rows" "$stage" "$rc" "$(bench_seconds "$t0" "$t1")" \
      "$logs/$stage-driver.log" "$executors" >> "$measurements"
    [ "$rc" = 0 ] || { echo "memory: $stage failed ($rc); see $logs/$stage.out" >&2; tail -n 20 "$logs/$stage.out" >&2; }
  done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
stop_cluster

if [ "$mode" = local ]; then
  mode_note="Spark local[2]: the executors are threads of the driver JVM, so the driver heap measured here also holds the executors' task memory (input batches, Parquet writers); executors are not reported separately."
else
  mode_note="Spark standalone, client mode: the driver runs in the spark-submit JVM here (driver), the executors in JVMs of 2 one-core workers (executors: the largest over them)."
fi
bench_main BenchTool memory --measurements "$measurements" \
  --setting "mode=$mode" --setting "source=$source_table" --setting "factor=$factor" --setting "subset=$subset" \
  --setting "driverXmx=$xmx" --setting "gc=G1, -Xlog:gc" --setting "teacher=$teacher" \
  --setting "stages=${stages[*]}" --setting "distill.epochs=1" \
  --setting "loadavgStart=$load_start" --setting "loadavgEnd=$load_end" \
  --note "$mode_note" \
  --note "the larger set is the smaller one copied $factor times with new ids (same features and labels), so every stage does $factor times the work on it; select-data keeps $subset examples of both (selection.fraction = ($subset + 0.5) / rows), so distill trains on the same number of examples." \
  --setting "liveHeapSampleMillis=$sample" \
  --note "the driver JVM forces a full collection every $sample ms (LiveHeapAgent, System.gc() on a thread of its own; 0: none), so liveHeapMiB samples its live set at that interval and can miss a shorter peak; maxAfterGcMiB (any collection, old-generation garbage included) bounds the heap it needs from above; maxBeforeGcMiB follows the collector's sizing under -Xmx$xmx. The forced collections slow the JVMs: wallSeconds are no speed figures. In standalone mode the executors' JVMs get the same agent: their liveHeapMiB is the largest sampled live set over the executors (a sample may fall between tasks)." \
  | tee "$work/memory.json"
