#!/usr/bin/env bash
# The scale-out benchmark as one call on a borrowed machine that has the bundle's pieces (deploy/bench/bundle.sh)
# but no JDK or Maven: copies the pieces found in PIECES_SRC to PIECES_DIR (where earlier calls may have left
# the others), then runs deploy/bench/scale-out.sh through deploy/bench/bundle-run.sh for each run of RUNS, each
# under its own time limit, with Spark event logs on. Writes to OUT_DIR, for a caller that fetches at most a
# few files: machine.txt (processor, memory, load), NAME.json (each run's scale-out.json), stages.txt (each
# stage's last lines) and event-logs.tar.xz (every application's event log, for the task timelines).
#   deploy/bench/scale-out-runs.sh PIECES_SRC OUT_DIR
# Environment:
#   PIECES_DIR (/tmp/pieces)
#   RUNS ("l5-12:150:1 2:lenet5;l3-12:120:1 2:lenet300100;l5-21:150:2 1:lenet5;l3-21:120:2 1:lenet300100"):
#     NAME:SECONDS:WORKERS:TEACHER entries separated by ';', WORKERS as SCALE_WORKERS ("1 2" is 1 x 1 then 2 x 1), TEACHER the
#     teacher-TEACHER.zip of data-samples/fashion-mnist
#   BUDGET (540): seconds after which no further run starts
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
[ $# -eq 2 ] || { echo "usage: $0 PIECES_SRC OUT_DIR" >&2; exit 2; }
src=$1
out=$2
pieces=${PIECES_DIR:-/tmp/pieces}
budget=${BUDGET:-540}
mkdir -p "$pieces" "$out"
cp "$src"/bundle.tar.xz.* "$pieces"/ 2> /dev/null || true
ls -l "$pieces"
{
  nproc
  lscpu | grep -E 'Model name|^CPU\(s\)|Thread|Core|Socket|L2|L3'
  echo "avx512f: $(grep -c avx512f /proc/cpuinfo) of $(grep -c ^processor /proc/cpuinfo) processors"
  free -g
  uptime
} > "$out/machine.txt" 2>&1
cat "$out/machine.txt"
events=$(mktemp -d)
runs=${RUNS:-"l5-12:150:1 2:lenet5;l3-12:120:1 2:lenet300100;l5-21:150:2 1:lenet5;l3-21:120:2 1:lenet300100"}
names=()
while IFS=: read -r name secs workers teacher; do
  [ -n "$name" ] || continue
  if [ "$SECONDS" -ge "$budget" ]; then
    echo "== $name: skipped, $SECONDS s of the $budget s budget used"
    continue
  fi
  names+=("$name")
  mkdir -p "$events/$name"
  echo "== $name: workers '$workers', teacher-$teacher.zip, limit $secs s, at $(date +%T)"
  t0=$SECONDS
  # touch: a copied checkout's sources are newer than the bundle's jar, which bench_dist would rebuild (no Maven).
  SCALE_WORKERS="$workers" SCALE_TEACHER="$root/data-samples/fashion-mnist/teacher-$teacher.zip" \
    SCALE_SET="spark.conf.\"spark.eventLog.enabled\"=true spark.conf.\"spark.eventLog.dir\"=file://$events/$name" \
    timeout -k 5 "$secs" deploy/bench/bundle-run.sh "$pieces" \
    bash -c 'touch pipeline-jobs/target/pare-cluster.jar; exec deploy/bench/scale-out.sh "$0"' "/tmp/scale-out-$name" \
    > "$out/$name.json" 2> "/tmp/scale-out-$name.err"
  echo "== $name: exit $? after $((SECONDS - t0)) s"
  tail -n 8 "/tmp/scale-out-$name.err"
  # A run stopped by its limit leaves its cluster's daemons: none may slow the next run.
  pkill -f 'org.apache.spark.deploy.(master.Master|worker.Worker)' 2> /dev/null
  sleep 1
done < <(echo "$runs" | tr ';' '\n')
for name in "${names[@]}"; do
  for log in /tmp/scale-out-"$name"/*-workers-*.log; do
    [ -f "$log" ] && { echo "$name $(basename "$log"):"; grep -E 'done in|ERROR|Exception' "$log" | head -n 5; }
  done
done > "$out/stages.txt"
tar -C "$events" -cf - . | xz -6 > "$out/event-logs.tar.xz"
ls -l "$out"
